// The Cache API service of workerd run directly: every lookup misses and every put is
// discarded, as on a *.workers.dev address. (Miniflare's own no-op cache answers the same.)
export default {
  async fetch(request) {
    if (request.method === 'GET') return new Response(null, { status: 504, headers: { 'cf-cache-status': 'MISS' } });
    if (request.method === 'PUT') {
      await request.body?.pipeTo(new WritableStream());
      return new Response(null, { status: 204 });
    }
    return new Response(null, { status: request.method === 'PURGE' ? 404 : 405 });
  },
};
