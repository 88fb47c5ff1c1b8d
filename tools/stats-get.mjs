// `blog stats`'s request: GET the stats endpoint named on the command line with the token
// from BLOG_STATS_TOKEN (never on the command line, where `ps` would show it) and print the
// JSON. Node's fetch carries TLS for the deployed site, so `blog` links no HTTP client.
// Exit 0 with the body on 200; 3 when the site answers 404 (a wrong or unset token); 1 else.

const [url] = process.argv.slice(2);
const token = process.env.BLOG_STATS_TOKEN ?? '';
try {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    redirect: 'manual',
    signal: AbortSignal.timeout(30_000),
  });
  const body = await res.text();
  if (res.status === 200) {
    process.stdout.write(body);
    process.exit(0);
  }
  process.stderr.write(`${url} answered ${res.status}\n`);
  process.exit(res.status === 404 ? 3 : 1);
} catch (e) {
  process.stderr.write(`cannot reach ${url}: ${e.cause?.code ?? e.message}\n`);
  process.exit(1);
}
