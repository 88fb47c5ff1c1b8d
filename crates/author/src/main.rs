//! `blog`: the author's command line. It only reads the arguments and hands them to one
//! command in `cmd/`; the rules those follow live in the `blog_author` library.

mod cmd;

use blog_author::wrangler::Place;
use cmd::Site;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

const HELP: &str = "\
The author's tool for this blog: start a post, check content/, publish it to Workers KV.

Usage: blog [OPTIONS] <COMMAND>

Commands:
  new      Create a post from its title: content/<slug>.md, dated now, as a draft
  check    Validate site.toml and every post, KV's size limits included; write nothing
  sync     Validate, then publish what changed to Workers KV (local dev state by default)
  serve    Sync into local KV, serve the site, and sync and reload the browser on every save
  preview  Publish a draft or scheduled post under a secret link and print it
  stats    Print reads per post, the site's reads per day and referring sites
  import   Copy a Hugo, Jekyll, Zola or Astro blog's posts and images into content/
  help     Print this message, or the help of the given command

Options:
      --content <DIR>    The posts folder [default: content]
      --settings <FILE>  The site settings [default: site.toml]
  -h, --help             Print help (`blog <COMMAND> --help` for a command's own options)
  -V, --version          Print version
";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    New,
    Check,
    Sync,
    Serve,
    Stats,
    Preview,
    Import,
}

impl Command {
    fn named(name: &str) -> Option<Self> {
        [
            Self::New,
            Self::Check,
            Self::Sync,
            Self::Serve,
            Self::Stats,
            Self::Preview,
            Self::Import,
        ]
        .into_iter()
        .find(|c| c.name() == name)
    }

    fn name(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Check => "check",
            Self::Sync => "sync",
            Self::Serve => "serve",
            Self::Stats => "stats",
            Self::Preview => "preview",
            Self::Import => "import",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Self::New => cmd::new::HELP,
            Self::Check => cmd::check::HELP,
            Self::Sync => cmd::sync::HELP,
            Self::Serve => cmd::serve::HELP,
            Self::Stats => cmd::stats::HELP,
            Self::Preview => cmd::preview::HELP,
            Self::Import => cmd::import::HELP,
        }
    }
}

/// What the command line asks for.
#[derive(Debug)]
enum Cli {
    Run(Args),
    /// The help of a command, or of `blog` itself.
    Help(Option<Command>),
    Version,
}

/// A command and its flags. Every flag is accepted with every command; each command uses
/// those its help lists.
#[derive(Debug)]
struct Args {
    command: Command,
    /// `blog new`'s title, `blog preview`'s file, or `blog import`'s folder.
    title: Option<String>,
    /// `blog import --from`: the engine the blog was made with.
    from: Option<String>,
    /// `blog preview --revoke`.
    revoke: bool,
    /// `blog sync --preview`.
    preview: bool,
    site: Site,
    drafts: bool,
    place: Place,
    dry_run: bool,
    /// `blog serve`'s port.
    port: u16,
    /// `blog stats --url`: the site to ask.
    url: Option<String>,
    /// `blog stats --json`: the report as JSON.
    json: bool,
}

/// A command line that asks for nothing `blog` does, and the command it named, if any, whose
/// usage line goes with the message.
#[derive(Debug, PartialEq)]
struct Mistake {
    message: String,
    command: Option<Command>,
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let asked_for_help = args
        .iter()
        .any(|a| a == "-h" || a == "--help" || a == "help");
    match parse(args) {
        Ok(Cli::Run(args)) => run(args),
        Ok(Cli::Help(command)) => {
            print!("{}", command.map_or(HELP, Command::help));
            ExitCode::SUCCESS
        }
        Ok(Cli::Version) => {
            println!("blog {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        // A request for help anywhere on the line wins over a mistake elsewhere in it.
        Err(mistake) if asked_for_help => {
            print!("{}", mistake.command.map_or(HELP, Command::help));
            ExitCode::SUCCESS
        }
        Err(Mistake { message, command }) => {
            let help = command.map_or(HELP, Command::help);
            let usage = help
                .lines()
                .find(|l| l.starts_with("Usage:"))
                .unwrap_or_default();
            let more = command.map_or("blog --help".into(), |c| {
                format!("blog {} --help", c.name())
            });
            eprint!("blog: {message}\n\n{usage}\n\nFor more information, try `{more}`.\n");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> ExitCode {
    let result = match args.command {
        Command::New => cmd::new::run(&args.site, args.title.as_deref()),
        Command::Check => cmd::check::run(&args.site, args.drafts),
        Command::Sync => cmd::sync::run(
            &args.site,
            args.drafts,
            args.place,
            args.dry_run,
            args.preview,
        ),
        Command::Preview => match &args.title {
            Some(file) => cmd::preview::run(
                &args.site,
                std::path::Path::new(file),
                args.revoke,
                args.place,
            ),
            None => Err("preview needs the post's file, such as content/my-draft.md".into()),
        },
        Command::Serve => {
            let Place::Local { persist_to } = args.place else {
                unreachable!("parse refuses --remote with serve")
            };
            cmd::serve::run(&args.site, persist_to, args.port)
        }
        Command::Import => match (&args.from, &args.title) {
            (Some(from), Some(dir)) => {
                cmd::import::run(&args.site, from, std::path::Path::new(dir), args.dry_run)
            }
            _ => unreachable!("parse asks for both"),
        },
        Command::Stats => {
            let remote = args.place == Place::Remote;
            cmd::stats::run(&args.site, remote, args.url.as_deref(), args.json)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("blog: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Reads the arguments (without the program's name). Flags may come before or after the
/// command; no arguments at all ask for help.
fn parse(args: Vec<OsString>) -> Result<Cli, Mistake> {
    use lexopt::Arg::{Long, Short, Value};
    if args.is_empty() {
        return Ok(Cli::Help(None));
    }
    let mut parser = lexopt::Parser::from_args(args);
    let mut command: Option<String> = None;
    let mut title = None;
    let mut site = Site {
        content: PathBuf::from("content"),
        settings: PathBuf::from("site.toml"),
    };
    let mut persist_to: Option<PathBuf> = None;
    let mut port: u16 = 8787;
    let mut url: Option<String> = None;
    let mut from: Option<String> = None;
    let (mut remote, mut drafts, mut dry_run, mut json) = (false, false, false, false);
    let (mut revoke, mut preview) = (false, false);
    let (mut help, mut version) = (false, false);
    let mistake = |message: String, command: &Option<String>| Mistake {
        message,
        command: command.as_deref().and_then(Command::named),
    };
    loop {
        let arg = match parser.next() {
            Ok(Some(arg)) => arg,
            Ok(None) => break,
            Err(e) => return Err(mistake(describe(e), &command)),
        };
        match arg {
            Long("url") => {
                let value = parser
                    .value()
                    .map_err(|_| mistake("--url needs a value".into(), &command))?;
                url = Some(value.to_string_lossy().into_owned());
            }
            Long("from") => {
                let value = parser
                    .value()
                    .map_err(|_| mistake("--from needs a value".into(), &command))?;
                from = Some(value.to_string_lossy().into_owned());
            }
            Long(name @ ("content" | "settings" | "persist-to")) => {
                let flag = format!("--{name}");
                let value = parser
                    .value()
                    .map_err(|_| mistake(format!("{flag} needs a value"), &command))?;
                match flag.as_str() {
                    "--content" => site.content = value.into(),
                    "--settings" => site.settings = value.into(),
                    _ => persist_to = Some(value.into()),
                }
            }
            Long("port") => {
                let value = parser
                    .value()
                    .map_err(|_| mistake("--port needs a value".into(), &command))?;
                port = value.to_str().and_then(|v| v.parse().ok()).ok_or_else(|| {
                    mistake(
                        format!("--port {} is not a port number", value.to_string_lossy()),
                        &command,
                    )
                })?;
            }
            Long("remote") => remote = true,
            Long("drafts") => drafts = true,
            Long("dry-run") => dry_run = true,
            Long("json") => json = true,
            Long("revoke") => revoke = true,
            Long("preview") => preview = true,
            Short('h') | Long("help") => help = true,
            Short('V') | Long("version") => version = true,
            Value(v) if v == "help" => help = true,
            // A lone `-` is no name a command or a title takes.
            Value(v) if v == "-" => return Err(mistake("unknown option -".into(), &command)),
            Value(v) => {
                let v = v.into_string().map_err(|v| {
                    mistake(
                        format!("{} is not valid UTF-8", v.to_string_lossy()),
                        &command,
                    )
                })?;
                if command.is_none() {
                    command = Some(v);
                } else if matches!(command.as_deref(), Some("new" | "preview" | "import"))
                    && title.is_none()
                {
                    title = Some(v);
                } else {
                    return Err(mistake(format!("unexpected argument {v}"), &command));
                }
            }
            arg => return Err(mistake(describe(arg.unexpected()), &command)),
        }
    }
    if help {
        return Ok(Cli::Help(command.as_deref().and_then(Command::named)));
    }
    if version {
        return Ok(Cli::Version);
    }
    if remote && drafts {
        return Err(mistake(
            "--drafts publishes drafts to local dev only; it cannot be used with --remote".into(),
            &command,
        ));
    }
    if remote && persist_to.is_some() {
        return Err(mistake(
            "--persist-to names local state; it cannot be used with --remote".into(),
            &command,
        ));
    }
    let Some(name) = command else {
        return Err(mistake("no command given".into(), &None));
    };
    let Some(command) = Command::named(&name) else {
        return Err(mistake(format!("unknown command `{name}`"), &None));
    };
    if remote && command == Command::Serve {
        return Err(mistake(
            "serve runs the site locally; it cannot be used with --remote".into(),
            &Some(name),
        ));
    }
    let place = if remote {
        Place::Remote
    } else {
        Place::Local { persist_to }
    };
    if command == Command::Import {
        let engines = "hugo, jekyll, zola or astro";
        match from.as_deref() {
            None => {
                return Err(mistake(
                    format!("import needs --from: the engine the blog was made with ({engines})"),
                    &Some(name),
                ))
            }
            Some(engine) if blog_author::import::Engine::named(engine).is_none() => {
                return Err(mistake(
                    format!("--from {engine} is not an engine import reads: use {engines}"),
                    &Some(name),
                ))
            }
            Some(_) => {}
        }
        if title.is_none() {
            return Err(mistake(
                "import needs the other blog's folder, such as ../old-blog".into(),
                &Some(name),
            ));
        }
    }
    if command == Command::Preview && title.is_none() {
        return Err(mistake(
            "preview needs the post's file, such as content/my-draft.md".into(),
            &Some(name),
        ));
    }
    Ok(Cli::Run(Args {
        command,
        title,
        from,
        revoke,
        preview,
        site,
        drafts,
        place,
        dry_run,
        port,
        url,
        json,
    }))
}

/// A parser error in the words `blog` has always used.
fn describe(error: lexopt::Error) -> String {
    match error {
        lexopt::Error::UnexpectedOption(option) => format!("unknown option {option}"),
        lexopt::Error::UnexpectedValue { option, value } => {
            format!(
                "{option} takes no value (given {})",
                value.to_string_lossy()
            )
        }
        lexopt::Error::MissingValue {
            option: Some(option),
        } => format!("{option} needs a value"),
        lexopt::Error::NonUnicodeValue(value) => {
            format!("{} is not valid UTF-8", value.to_string_lossy())
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_line(line: &[&str]) -> Result<Cli, Mistake> {
        parse(line.iter().map(OsString::from).collect())
    }

    fn args(line: &[&str]) -> Args {
        match parse_line(line) {
            Ok(Cli::Run(args)) => args,
            other => panic!("{line:?} parsed as {other:?}"),
        }
    }

    fn mistake(line: &[&str]) -> String {
        match parse_line(line) {
            Err(m) => m.message,
            other => panic!("{line:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn flags_may_come_before_or_after_the_command() {
        let before = args(&["--content", "posts", "--drafts", "sync", "--dry-run"]);
        let after = args(&["sync", "--dry-run", "--drafts", "--content", "posts"]);
        for a in [before, after] {
            assert_eq!(a.command, Command::Sync);
            assert_eq!(a.site.content, PathBuf::from("posts"));
            assert_eq!(a.site.settings, PathBuf::from("site.toml"));
            assert!(a.drafts && a.dry_run);
            assert_eq!(a.place, Place::Local { persist_to: None });
        }
    }

    #[test]
    fn the_defaults_are_the_repository_layout_and_local_dev_state() {
        let a = args(&["check"]);
        assert_eq!(a.site.content, PathBuf::from("content"));
        assert_eq!(a.site.settings, PathBuf::from("site.toml"));
        assert!(!a.drafts && !a.dry_run);
        assert_eq!(a.place, Place::Local { persist_to: None });
        let a = args(&["sync", "--persist-to", "/tmp/state"]);
        assert_eq!(
            a.place,
            Place::Local {
                persist_to: Some("/tmp/state".into())
            }
        );
        assert_eq!(args(&["sync", "--remote"]).place, Place::Remote);
    }

    #[test]
    fn stats_asks_local_dev_unless_told_remote_or_another_address() {
        let a = args(&["stats"]);
        assert_eq!(
            (a.command, &a.place, a.url.as_deref()),
            (Command::Stats, &Place::Local { persist_to: None }, None)
        );
        assert_eq!(args(&["stats", "--remote"]).place, Place::Remote);
        let a = args(&["stats", "--url", "http://127.0.0.1:9999"]);
        assert_eq!(a.url.as_deref(), Some("http://127.0.0.1:9999"));
        assert_eq!(mistake(&["stats", "--url"]), "--url needs a value");
        assert!(args(&["stats", "--json"]).json && !args(&["stats"]).json);
    }

    #[test]
    fn new_takes_one_title_and_other_commands_none() {
        let a = args(&["new", "How I Cut Our Build Time"]);
        assert_eq!(
            (a.command, a.title.as_deref()),
            (Command::New, Some("How I Cut Our Build Time"))
        );
        assert_eq!(args(&["new"]).title, None);
        assert_eq!(mistake(&["new", "A", "B"]), "unexpected argument B");
        assert_eq!(mistake(&["check", "extra"]), "unexpected argument extra");
    }

    #[test]
    fn preview_takes_one_file_and_may_revoke_it() {
        let a = args(&["preview", "content/draft.md"]);
        assert_eq!(a.command, Command::Preview);
        assert_eq!(a.title.as_deref(), Some("content/draft.md"));
        assert!(!a.revoke);
        let a = args(&["preview", "--revoke", "content/draft.md", "--remote"]);
        assert!(a.revoke && a.place == Place::Remote);
        assert_eq!(
            mistake(&["preview"]),
            "preview needs the post's file, such as content/my-draft.md"
        );
        assert_eq!(
            mistake(&["preview", "a.md", "b.md"]),
            "unexpected argument b.md"
        );
    }

    #[test]
    fn a_value_is_taken_as_given_even_when_it_looks_like_a_flag() {
        assert_eq!(
            args(&["check", "--content", "--odd"]).site.content,
            PathBuf::from("--odd")
        );
        assert_eq!(
            args(&["check", "--settings=alt.toml"]).site.settings,
            PathBuf::from("alt.toml")
        );
    }

    #[test]
    fn mistakes_are_named_in_plain_words() {
        assert_eq!(mistake(&["--bogus"]), "unknown option --bogus");
        assert_eq!(mistake(&["sync", "-x"]), "unknown option -x");
        assert_eq!(mistake(&["--content"]), "--content needs a value");
        assert_eq!(mistake(&["--remote"]), "no command given");
        assert_eq!(mistake(&["foo"]), "unknown command `foo`");
        assert_eq!(mistake(&["foo", "bar"]), "unexpected argument bar");
        assert_eq!(
            mistake(&["sync", "--remote=yes"]),
            "--remote takes no value (given yes)"
        );
    }

    #[test]
    fn drafts_and_local_state_cannot_go_with_remote() {
        assert_eq!(
            mistake(&["sync", "--remote", "--drafts"]),
            "--drafts publishes drafts to local dev only; it cannot be used with --remote"
        );
        assert_eq!(
            mistake(&["sync", "--remote", "--persist-to", "x"]),
            "--persist-to names local state; it cannot be used with --remote"
        );
    }

    #[test]
    fn a_mistake_after_a_command_names_that_command_for_its_usage_line() {
        let m = parse_line(&["sync", "--bogus"]).unwrap_err();
        assert_eq!(m.command, Some(Command::Sync));
        assert_eq!(parse_line(&["--bogus", "sync"]).unwrap_err().command, None);
    }

    #[test]
    fn help_is_asked_for_with_no_arguments_a_flag_or_the_word() {
        for line in [
            &[][..],
            &["-h"],
            &["--help"],
            &["help"],
            &["--drafts", "--help"],
        ] {
            assert!(matches!(parse_line(line), Ok(Cli::Help(None))), "{line:?}");
        }
    }

    #[test]
    fn help_with_a_command_is_that_commands_help() {
        for line in [
            &["sync", "--help"][..],
            &["help", "sync"],
            &["sync", "-h"],
            &["sync", "help"],
        ] {
            assert!(
                matches!(parse_line(line), Ok(Cli::Help(Some(Command::Sync)))),
                "{line:?}"
            );
        }
        assert!(matches!(
            parse_line(&["new", "help"]),
            Ok(Cli::Help(Some(Command::New)))
        ));
        assert!(matches!(
            parse_line(&["help", "nothing"]),
            Ok(Cli::Help(None))
        ));
    }

    #[test]
    fn version_is_asked_for_with_a_flag() {
        assert!(matches!(parse_line(&["--version"]), Ok(Cli::Version)));
        assert!(matches!(parse_line(&["-V"]), Ok(Cli::Version)));
    }

    #[test]
    fn every_help_has_a_usage_line_and_lists_each_flag_its_command_uses() {
        for (help, flags) in [
            (
                HELP,
                &["--content", "--settings", "--help", "--version"][..],
            ),
            (cmd::new::HELP, &["--content", "--settings", "--help"]),
            (
                cmd::check::HELP,
                &["--content", "--settings", "--drafts", "--help"],
            ),
            (
                cmd::stats::HELP,
                &["--remote", "--url", "--json", "--settings", "--help"],
            ),
            (
                cmd::preview::HELP,
                &[
                    "--content",
                    "--settings",
                    "--revoke",
                    "--remote",
                    "--persist-to",
                    "--help",
                ][..],
            ),
            (
                cmd::sync::HELP,
                &[
                    "--content",
                    "--settings",
                    "--drafts",
                    "--remote",
                    "--persist-to",
                    "--preview",
                    "--dry-run",
                    "--help",
                ],
            ),
        ] {
            assert!(help.lines().any(|l| l.starts_with("Usage: blog")), "{help}");
            for flag in flags {
                assert!(help.contains(flag), "{flag} missing from:\n{help}");
            }
            assert!(
                help.lines().all(|l| l.chars().count() <= 100),
                "a long line in:\n{help}"
            );
        }
    }
}
