import { html } from 'hono/html';

/** Placeholder replaced below by the interactive documentation page. */
export function renderDocsPage(title: string) {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><p><a href="/openapi.json">OpenAPI</a></p></body></html>`;
}
