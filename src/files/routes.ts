import { Hono, type Context } from 'hono';
import type { FileStore } from './file-store.ts';

/**
 * GET /files/:id (and /files/:id/:name, so browsers and chat clients show a
 * proper name in the address). The id is the capability; the name in the
 * path is decoration and the stored name wins. Unknown, malformed and
 * expired ids all answer the same 404, so a probe learns nothing.
 */
export function createFileRoutes(store: FileStore): Hono {
  const routes = new Hono();

  const serve = async (c: Context) => {
    const file = await store.info(c.req.param('id') ?? '');
    if (!file) return c.json({ error: 'not_found', message: 'no such file' }, 404);
    // Streamed chunk by chunk: a 50 MB yearbook never sits whole in memory.
    const chunks = store.chunks(file.id)[Symbol.asyncIterator]();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (err) {
          controller.error(err);
        }
      },
      async cancel() {
        await chunks.return?.();
      },
    });
    return c.body(body, 200, {
      'content-type': file.contentType,
      'content-length': String(file.size),
      'content-disposition': contentDisposition(file.name),
      // Links are capabilities: keep them out of shared caches and the browser's disk cache.
      'cache-control': 'private, no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
  };
  routes.get('/files/:id', serve);
  routes.get('/files/:id/:name', serve);
  return routes;
}

/**
 * `attachment` with the UTF-8 name (RFC 6266 / 5987) and an ASCII fallback
 * for old clients; Chinese file names need the `filename*` form.
 */
export function contentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
