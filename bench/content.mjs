// Generated posts for the benchmark: deterministic, and shaped like the real ones in
// content/ (about 7 KB: paragraphs with inline code, links and emphasis, h2 sections, lists,
// a table, fenced code in the languages the blog uses, a footnote, links to other posts).
import fs from 'node:fs/promises';
import path from 'node:path';

// A small deterministic PRNG (mulberry32), so every run benches the same content.
export { rng } from '../tests/tools/load.mjs';
import { rng } from '../tests/tools/load.mjs';

const WORDS = (
  'the a build cache worker request response edge latency queue container image layer ' +
  'runtime isolate binding namespace deploy release pipeline commit branch merge review test ' +
  'server client socket stream buffer batch flush retry timeout error handler route page ' +
  'index post render template markdown parser token event iterator closure trait struct ' +
  'memory allocation throughput benchmark profile trace metric counter durable object storage ' +
  'sqlite schema migration key value store hash version content sync author reader because ' +
  'when then while every only first last small large fast slow simple honest careful which ' +
  'is was are it this that with from into over under after before across between without'
).split(' ');
const TAGS = ['rust', 'go', 'typescript', 'devops', 'cloudflare', 'docker', 'ci', 'performance', 'webrtc', 'databases', 'testing', 'side-projects'];

const CODE = {
  rust: `pub async fn handle(req: Request, env: Env) -> Result<Response> {
    let route = routes::resolve(req.method().as_ref(), req.path().as_str());
    let index = store::current_index(&env).await?;
    match route {
        Route::Post { slug } => render_post(&index, &slug, &env).await,
        _ => Response::error("not found", 404),
    }
}
`,
  go: `func (s *Server) handleBuild(w http.ResponseWriter, r *http.Request) {
\tvar job BuildJob
\tif err := json.NewDecoder(r.Body).Decode(&job); err != nil {
\t\thttp.Error(w, "bad request", http.StatusBadRequest)
\t\treturn
\t}
\tif err := s.queue.Publish(r.Context(), "builds.queued", job); err != nil {
\t\thttp.Error(w, err.Error(), http.StatusServiceUnavailable)
\t\treturn
\t}
\tw.WriteHeader(http.StatusAccepted)
}
`,
  typescript: `export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const id = env.ROOMS.idFromName(url.searchParams.get("code") ?? "lobby");
    const stub = env.ROOMS.get(id);
    return stub.fetch(request);
  },
} satisfies ExportedHandler<Env>;
`,
  bash: `set -euo pipefail
docker buildx build --platform linux/amd64,linux/arm64 \\
  --cache-from type=registry,ref=$REGISTRY/app:cache \\
  --cache-to type=registry,ref=$REGISTRY/app:cache,mode=max \\
  -t "$REGISTRY/app:$(git rev-parse --short HEAD)" --push .
`,
  toml: `[package]
name = "edge-blog"
version = "0.3.0"
edition = "2021"

[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
`,
  dockerfile: `FROM golang:1.22-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -ldflags="-s -w" -o /out/server ./cmd/server

FROM gcr.io/distroless/static
COPY --from=build /out/server /server
ENTRYPOINT ["/server"]
`,
  json: `{
  "name": "term-bridge",
  "version": "1.4.2",
  "bin": { "term-bridge": "dist/cli.js" },
  "scripts": { "build": "tsc -p .", "test": "vitest run" }
}
`,
};
const LANGS = Object.keys(CODE);

function pick(r, list) {
  return list[Math.floor(r() * list.length)];
}

function sentence(r, links) {
  const n = 8 + Math.floor(r() * 14);
  const words = [];
  for (let i = 0; i < n; i++) {
    let w = pick(r, WORDS);
    const roll = r();
    if (roll < 0.04) w = `\`${w}_${pick(r, WORDS)}\``;
    else if (roll < 0.06) w = `**${w}**`;
    else if (roll < 0.08) w = `*${w}*`;
    else if (roll < 0.09 && links.length) w = `[${w} ${pick(r, WORDS)}](${pick(r, links)})`;
    words.push(w);
  }
  const s = words.join(' ');
  return s[0].toUpperCase() + s.slice(1) + (r() < 0.1 ? '?' : '.');
}

function paragraph(r, links) {
  const n = 3 + Math.floor(r() * 4);
  return Array.from({ length: n }, () => sentence(r, links)).join(' ');
}

function title(r) {
  const n = 4 + Math.floor(r() * 6);
  const words = Array.from({ length: n }, () => pick(r, WORDS));
  return words.map((w) => w[0].toUpperCase() + w.slice(1)).join(' ');
}

/**
 * Markdown of about `targetBytes`: an intro, then h2 sections of paragraphs, each with one of a
 * list, a fenced code block, a table or a quote. `links` are URLs a sentence may link to.
 */
export function body(r, targetBytes, links = ['https://developers.cloudflare.com/workers/']) {
  const parts = [paragraph(r, links), paragraph(r, links)];
  let size = parts.join('\n\n').length;
  let section = 0;
  while (size < targetBytes) {
    section += 1;
    const block = [`## ${title(r)} ${section}`, paragraph(r, links)];
    switch (section % 4) {
      case 1:
        block.push(Array.from({ length: 3 + Math.floor(r() * 3) }, () => `- ${sentence(r, links)}`).join('\n'));
        break;
      case 2: {
        const lang = pick(r, LANGS);
        block.push(`\`\`\`${lang}\n${CODE[lang]}\`\`\``);
        break;
      }
      case 3: {
        const rows = Array.from({ length: 3 + Math.floor(r() * 3) }, () => `| \`${pick(r, WORDS)}\` | ${pick(r, WORDS)} ${pick(r, WORDS)} | ${Math.floor(r() * 1000)} ms |`);
        block.push(['| Part | What it does | Cost |', '|---|---|---|', ...rows].join('\n'));
        break;
      }
      default:
        block.push(`> ${sentence(r, links)} ${sentence(r, links)}`);
        block.push(`1. ${sentence(r, links)}\n2. ${sentence(r, links)}\n3. ${sentence(r, links)}`);
    }
    block.push(paragraph(r, links));
    const text = block.join('\n\n');
    parts.push(text);
    size += text.length + 2;
  }
  parts.push(`That is the whole of it[^1].\n\n[^1]: ${sentence(r, links)}`);
  return parts.join('\n\n') + '\n';
}

/** A post file's text: TOML front matter and a body of about `targetBytes`. */
export function postText(r, { title: t, date, tags, bytes, links }) {
  const summary = sentence(r, []).replace(/[`*"\\]/g, '');
  return `+++
title = "${t}"
date = ${date}
summary = "${summary}"
tags = [${tags.map((x) => `"${x}"`).join(', ')}]
+++

${body(r, bytes, links)}`;
}

export function slugOf(i) {
  return `bench-post-${String(i).padStart(4, '0')}`;
}

/**
 * Writes `count` posts into `dir` (bench-post-0000.md …), about `bytes` each, dated one a
 * day back from 2026-01-01, some linking to earlier posts. Returns their slugs, newest first.
 */
export async function writePosts(dir, count, { bytes = 7000, seed = 42 } = {}) {
  await fs.mkdir(dir, { recursive: true });
  const slugs = [];
  const start = Date.UTC(2026, 0, 1);
  for (let i = 0; i < count; i++) {
    const r = rng(seed + i);
    const date = new Date(start - (count - i) * 86_400_000).toISOString().slice(0, 10);
    const links = ['https://developers.cloudflare.com/workers/', 'https://doc.rust-lang.org/book/'];
    if (i > 0) links.push(`/posts/${slugOf(Math.floor(r() * i))}`);
    const tags = [...new Set([pick(r, TAGS), pick(r, TAGS)])];
    const text = postText(r, { title: `${title(r)} ${i}`, date, tags, bytes, links });
    await fs.writeFile(path.join(dir, `${slugOf(i)}.md`), text);
    slugs.push(slugOf(i));
  }
  return slugs.reverse();
}
