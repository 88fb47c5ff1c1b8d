// The runtime's limit: a worker that does nothing but answer every request with the same
// bytes from memory. `bench/run.mjs` fills page.html with a real rendered post page and
// headers.json with the headers the blog sent with it, so both put the same bytes on the wire.
import page from './page.html';
import headers from './headers.json';

const body = new TextEncoder().encode(page);

export default {
  fetch() {
    return new Response(body, { headers });
  },
};
