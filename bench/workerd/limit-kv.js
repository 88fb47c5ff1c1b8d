// A reference, not a contender: the limit worker plus the one KV read of the small `version`
// key the blog makes on every request (to know whether its cached pages are current).
import page from 'page.html';
import headers from 'headers.json';

const body = new TextEncoder().encode(page);

export default {
  async fetch(request, env) {
    await env.POSTS.get('version');
    return new Response(body, { headers });
  },
};
