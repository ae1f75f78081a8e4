import { html, raw } from 'hono/html';
import { DOCS_CLIENT_SCRIPT } from './docs-client.ts';

/**
 * GET /docs: interactive API documentation, self-contained (inline CSS and script, no external
 * assets, so it works offline and on Workers). The server renders only the shell and a link to
 * /openapi.json, which is all a reader without JavaScript gets; the inline script fetches the
 * document and renders operations, schemas and the "Try it" panels (see docs-client.ts).
 */
export function renderDocsPage(title: string) {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title} — API documentation</title>
<style>${raw(DOCS_CSS)}</style>
</head>
<body>
<a class="skip" href="#main">Skip to the documentation</a>
<header class="top">
  <div class="top-inner">
    <p class="brand">${title} <span>API reference</span></p>
    <p><a href="/openapi.json">OpenAPI document (JSON)</a></p>
  </div>
</header>
<div class="layout">
  <nav id="toc" class="toc" aria-label="Operations"></nav>
  <main id="main" tabindex="-1">
    <h1 id="api-title">${title}</h1>
    <div id="api-info">
      <p>This API is described by an OpenAPI 3.1 document at <a href="/openapi.json">/openapi.json</a>, which any OpenAPI tool can read.</p>
    </div>
    <noscript><p class="alert">The interactive reference needs JavaScript. Without it, read the <a href="/openapi.json">OpenAPI document</a> directly.</p></noscript>
    <div id="load-status" role="status"></div>
    <div id="docs"></div>
  </main>
</div>
<script>${raw(DOCS_CLIENT_SCRIPT)}</script>
</body>
</html>`;
}

/** Colours chosen for at least WCAG AA contrast (4.5:1) on their backgrounds. */
const DOCS_CSS = `
:root { color-scheme: light; --ink: #1b1f24; --muted: #4a5159; --line: #d0d5db; --soft: #f3f5f7; --accent: #0b5394;
  --ok: #1e6b2f; --ok-bg: #e6f2e8; --err: #a61b1b; --err-bg: #fbeaea; --info: #5b3a8c; --focus: #c25e00;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
* { box-sizing: border-box; }
html { scroll-padding-top: 1rem; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
a { color: var(--accent); }
a:hover { text-decoration-thickness: 2px; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
code, pre, .path, textarea, .type { font-family: var(--mono); font-size: 0.92em; }
code { background: var(--soft); padding: 0 0.25em; border-radius: 3px; overflow-wrap: anywhere; }
.skip { position: absolute; left: -999px; top: 0; background: #fff; padding: 0.5rem 1rem; z-index: 10; }
.skip:focus { left: 0.5rem; top: 0.5rem; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.top { background: #12324f; color: #fff; }
.top-inner { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; gap: 0.5rem 2rem; padding: 0.6rem 1.5rem; }
.top p { margin: 0; }
.top a { color: #fff; }
.brand { font-weight: 700; font-size: 1.1rem; }
.brand span { font-weight: 400; opacity: 0.9; }
.layout { display: grid; grid-template-columns: 17rem minmax(0, 1fr); gap: 2rem; max-width: 82rem; margin: 0 auto; padding: 0 1.5rem 4rem; }
.toc { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow: auto; padding: 1.2rem 0.5rem 1rem 0; font-size: 0.9rem; }
.toc-title { font-size: 1rem; font-weight: 700; margin: 0 0 0.5rem; padding-bottom: 0.3rem; border-bottom: 2px solid var(--line); }
.toc ul { list-style: none; margin: 0; padding: 0; }
.toc-list > li { margin: 0.8rem 0 0; }
.toc-list ul li { margin: 0.15rem 0; }
.toc a { text-decoration: none; display: inline-block; padding: 0.1rem 0; }
.toc-list ul a { display: grid; grid-template-columns: 3.4rem minmax(0, 1fr); gap: 0.45rem; align-items: baseline; }
.toc a:hover .toc-path, .toc a:focus .toc-path { text-decoration: underline; }
.toc-tag { font-weight: 700; color: var(--ink) !important; }
.toc-path { font-family: var(--mono); font-size: 0.85rem; color: var(--ink); overflow-wrap: break-word; }
main { padding-top: 1rem; min-width: 0; }
main:focus { outline: none; }
h1 { font-size: 2rem; margin: 0.5rem 0 0.25rem; }
h2 { font-size: 1.5rem; margin: 2.5rem 0 0.75rem; padding-bottom: 0.3rem; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.15rem; margin: 0 0 0.4rem; }
h4 { font-size: 1rem; margin: 1.2rem 0 0.4rem; }
h5 { font-size: 0.95rem; margin: 0.8rem 0 0.3rem; }
.lead { font-size: 1.05rem; max-width: 48rem; }
.muted { color: var(--muted); }
.pill { display: inline-block; border: 1px solid var(--line); border-radius: 999px; padding: 0 0.6rem; font-size: 0.85rem; background: var(--soft); }
.servers { padding-left: 1.2rem; color: var(--muted); font-size: 0.92rem; }
.alert { border: 2px solid var(--err); background: var(--err-bg); padding: 0.75rem 1rem; border-radius: 4px; }
.warn { color: var(--err); font-weight: 600; }
.auth { border: 1px solid var(--line); background: var(--soft); border-radius: 6px; padding: 0 1.2rem 1rem; margin-top: 1.5rem; }
.auth h2 { border: 0; margin-top: 1rem; }
.block { display: block; }
.block p { margin: 0.2rem 0 0; }
.op { border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.2rem; margin: 1.2rem 0; }
.op:target { border-color: var(--accent); box-shadow: 0 0 0 2px var(--accent); }
.op-title { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.6rem; }
.path { font-weight: 600; overflow-wrap: break-word; min-width: 0; }
.summary { font-size: 1.02rem; margin: 0.2rem 0; }
.desc { margin: 0.3rem 0; max-width: 52rem; }
.method { display: inline-block; min-width: 4.2rem; text-align: center; color: #fff; font: 700 0.85rem/1.6 var(--mono); border-radius: 4px; padding: 0 0.4rem; background: #3b4148; }
.method.small { min-width: 3.4rem; font-size: 0.72rem; }
.m-get { background: #0b5394; } .m-post { background: #1e6b2f; } .m-put { background: #8a4b00; }
.m-patch { background: #5b3a8c; } .m-delete { background: #a61b1b; }
dl.meta { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0.2rem 1rem; margin: 0.6rem 0; font-size: 0.95rem; }
dl.meta dt { font-weight: 600; color: var(--muted); }
dl.meta dd { margin: 0; min-width: 0; }
.table-wrap { overflow-x: auto; }
table.params { border-collapse: collapse; width: 100%; font-size: 0.93rem; }
table.params th, table.params td { border: 1px solid var(--line); padding: 0.35rem 0.55rem; text-align: left; vertical-align: top; }
table.params thead th { background: var(--soft); }
table.params td p { margin: 0 0 0.2rem; }
.badge { display: inline-block; font-size: 0.75rem; font-weight: 600; border-radius: 3px; padding: 0 0.35rem; border: 1px solid currentColor; white-space: nowrap; }
.badge.required { color: var(--err); }
.badge.optional { color: var(--muted); }
.type { color: #4a2d7a; }
.schema { border-left: 3px solid var(--line); padding: 0.1rem 0 0.1rem 0.8rem; margin: 0.4rem 0; }
.schema-name { margin: 0.2rem 0; }
ul.props { list-style: none; margin: 0.3rem 0; padding: 0; }
li.prop { padding: 0.35rem 0 0.35rem 0.8rem; border-left: 1px dashed var(--line); }
li.prop > .desc, li.prop > p { margin: 0.1rem 0; font-size: 0.93rem; }
.prop-name { font-weight: 700; background: none; padding: 0; }
ul.facts { list-style: none; margin: 0.1rem 0; padding: 0; display: flex; flex-wrap: wrap; gap: 0.1rem 1rem; font-size: 0.85rem; color: var(--muted); }
.fact-label { font-weight: 600; }
.nested { margin: 0.3rem 0 0.3rem 0.4rem; }
.nested-label, .variant-head { margin: 0.2rem 0; font-size: 0.9rem; font-weight: 600; }
ol.variants { margin: 0.2rem 0; padding-left: 1.4rem; }
.media-type { margin: 0.4rem 0 0.1rem; font-size: 0.9rem; }
details.response { border: 1px solid var(--line); border-radius: 4px; margin: 0.35rem 0; padding: 0 0.8rem; }
details.response[open] { padding-bottom: 0.6rem; }
details > summary { cursor: pointer; padding: 0.4rem 0; }
.status { display: inline-block; font: 700 0.9rem var(--mono); padding: 0 0.4rem; border-radius: 3px; border: 1px solid currentColor; }
.status.ok { color: var(--ok); background: var(--ok-bg); }
.status.err { color: var(--err); background: var(--err-bg); }
.status.info { color: var(--info); }
.reason { font-weight: 600; }
details.try { margin-top: 1rem; border: 2px solid var(--accent); border-radius: 6px; padding: 0 1rem; }
details.try > summary { font-weight: 700; color: var(--accent); }
details.try[open] { padding-bottom: 1rem; }
fieldset { border: 1px solid var(--line); border-radius: 4px; margin: 0.5rem 0; padding: 0.4rem 0.8rem 0.6rem; }
legend { font-weight: 600; padding: 0 0.3rem; }
.field { display: flex; flex-direction: column; gap: 0.2rem; margin: 0.5rem 0; align-items: flex-start; }
.field label { font-weight: 600; }
.field label.inline { font-weight: 400; display: inline-flex; gap: 0.3rem; align-items: center; }
.field .row { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; width: 100%; }
input[type=text], input[type=password], input[type=search], select, textarea { font: inherit; color: var(--ink); background: #fff; border: 1px solid #6b737c; border-radius: 4px; padding: 0.35rem 0.5rem; max-width: 100%; }
input[type=text], input[type=password], select { width: 32rem; }
.token-field input[type=password], .token-field input[type=text] { flex: 1 1 20rem; width: auto; }
input[type=search] { width: 100%; }
textarea { width: 100%; font-family: var(--mono); font-size: 0.88rem; line-height: 1.4; }
.hint { font-size: 0.85rem; color: var(--muted); }
button { font: inherit; border-radius: 4px; padding: 0.35rem 1rem; cursor: pointer; border: 1px solid var(--accent); }
button.primary { background: var(--accent); color: #fff; font-weight: 600; padding: 0.45rem 1.6rem; }
button.secondary { background: #fff; color: var(--accent); font-size: 0.9rem; }
button:disabled { opacity: 0.6; cursor: progress; }
.actions { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; margin-top: 0.8rem; }
.result-status { font-weight: 600; margin: 0.8rem 0 0.3rem; }
.result-status.ok { color: var(--ok); } .result-status.err { color: var(--err); }
.result { border-top: 1px solid var(--line); margin-top: 0.3rem; }
.problem { background: var(--err-bg); border-left: 4px solid var(--err); padding: 0.4rem 0.7rem; margin: 0.5rem 0; }
pre.response-body, pre.example { background: #f6f8fa; border: 1px solid var(--line); border-radius: 4px; padding: 0.7rem; overflow: auto; max-height: 28rem; font-size: 0.85rem; line-height: 1.4; margin: 0.4rem 0; white-space: pre; }
.schemas details.schema-def { border-bottom: 1px solid var(--line); }
.schemas details.schema-def > summary code { font-weight: 700; font-size: 1rem; }
[hidden] { display: none !important; }
@media (max-width: 60rem) {
  .layout { grid-template-columns: 1fr; }
  .toc { position: static; max-height: none; border-bottom: 1px solid var(--line); }
  input[type=text], input[type=password], select { width: 100%; }
}
@media print { .toc, details.try, .skip { display: none; } .layout { display: block; } }
`;
