// A reference, not a contender: the limit worker plus the KV read the blog makes for the
// request. For a post (`/posts/<slug>`) that is the post's own record, read as bytes as the
// blog reads it (an uncached render reads it, whatever else it does); for any other path the
// small `version` key, which the blog reads to know whether its cached pages are current.
import page from 'page.html';
import headers from 'headers.json';

const body = new TextEncoder().encode(page);

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path.startsWith('/posts/')) {
      await env.POSTS.get(`post/${path.slice('/posts/'.length)}`, 'arrayBuffer');
    } else {
      await env.POSTS.get('version');
    }
    return new Response(body, { headers });
  },
};
