// A reference, not a contender: the limit worker plus the calls an uncached render makes
// when the blog is asked as a custom domain: the post's record read from KV (as bytes, as
// the blog reads it), a Cache API lookup that misses (every key is new, as a page of a new
// content version is) and a write of the page, after the answer.
import page from './page.html';
import headers from './headers.json';

const body = new TextEncoder().encode(page);
const stored = { 'content-type': headers['content-type'], 'cache-control': 'public, max-age=604800' };

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const key = `${url.origin}/__page-cache/${crypto.randomUUID()}`;
    // In the blog's order: the record names the page's cache key, so it is read first.
    if (url.pathname.startsWith('/posts/')) await env.POSTS.get(`post/${url.pathname.slice('/posts/'.length)}`, 'arrayBuffer');
    const hit = await caches.default.match(key);
    if (hit) return hit;
    ctx.waitUntil(caches.default.put(key, new Response(body, { headers: stored })));
    return new Response(body, { headers });
  },
};
