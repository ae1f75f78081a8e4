/**
 * The browser side of GET /docs: fetches /openapi.json and renders the interactive reference.
 *
 * Plain ES2017 in a String.raw literal, inlined by docs-page.ts (no bundler, no dependencies, no
 * network but the hub itself). String.raw keeps backslashes as written, so regular expressions
 * and "\n" mean in the browser what they say here. Rules for editing it:
 *   - no backtick and no dollar-brace anywhere (they would end or interpolate this literal; use
 *     '\u0060' for a backtick);
 *   - no closing script tag (it would end the inline script early);
 *   - every string from the OpenAPI document reaches the page through textContent, text nodes or
 *     setAttribute on inert attributes, never innerHTML;
 *   - the bearer token lives in sessionStorage only.
 */
export const DOCS_CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';

  var SPEC_URL = '/openapi.json';
  var TOKEN_KEY = 'fee-payment-hub.docs.token';
  var METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
  var MAX_DEPTH = 8;
  var BACKTICK = '\u0060';
  var REASONS = {
    200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found',
    303: 'See Other', 304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
    404: 'Not Found', 405: 'Method Not Allowed', 406: 'Not Acceptable', 409: 'Conflict', 413: 'Content Too Large',
    415: 'Unsupported Media Type', 422: 'Unprocessable Content', 429: 'Too Many Requests', 500: 'Internal Server Error',
    502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout'
  };

  var spec = null;
  var docsEl = document.getElementById('docs');
  var tocEl = document.getElementById('toc');
  var statusEl = document.getElementById('load-status');
  var tokenInput = null;

  /* ---------- DOM helpers (text only, never HTML) ---------- */

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === 'class') node.className = value;
        else if (key === 'text') node.textContent = String(value);
        else if (key.slice(0, 2) === 'on') node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? '' : String(value));
      });
    }
    add(node, children);
    return node;
  }

  function add(node, children) {
    if (children === null || children === undefined) return node;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
    });
    return node;
  }

  /** Text with markdown code spans (the only markup the document uses), inline. */
  function inlineText(text) {
    var frag = document.createDocumentFragment();
    String(text).split(BACKTICK).forEach(function (part, i) {
      if (part) add(frag, i % 2 === 1 ? el('code', { text: part }) : part);
    });
    return frag;
  }

  /** The same, split into paragraphs on blank lines. */
  function richText(text, className) {
    var frag = document.createDocumentFragment();
    String(text).split(/\n\s*\n/).forEach(function (para) {
      frag.appendChild(el('p', { class: className || null }, inlineText(para)));
    });
    return frag;
  }

  /** A path that may wrap after its slashes rather than inside a segment. */
  function pathText(path, className) {
    var span = el('span', { class: className });
    String(path).split('/').forEach(function (part, i) {
      if (i) add(span, ['/', el('wbr')]);
      add(span, part);
    });
    return span;
  }

  var idCounter = 0;
  function uid(prefix) {
    idCounter += 1;
    return prefix + '-' + idCounter;
  }

  function slug(text) {
    return String(text).replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
  }

  function has(obj, key) {
    return obj !== null && typeof obj === 'object' && Object.prototype.hasOwnProperty.call(obj, key);
  }

  function randomHex(bytes) {
    var buf = new Uint8Array(bytes);
    (window.crypto || window.msCrypto).getRandomValues(buf);
    return Array.prototype.map.call(buf, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  function newIdempotencyKey() {
    return 'docs-' + randomHex(12);
  }

  /* ---------- references ---------- */

  function resolvePointer(ref) {
    if (typeof ref !== 'string' || ref.slice(0, 2) !== '#/') return null;
    var cur = spec;
    var parts = ref.slice(2).split('/');
    for (var i = 0; i < parts.length; i++) {
      var key = decodeURIComponent(parts[i]).replace(/~1/g, '/').replace(/~0/g, '~');
      if (!has(cur, key)) return null;
      cur = cur[key];
    }
    return cur;
  }

  /** Follows $ref chains (parameters, bodies, responses, schemas). */
  function deref(obj) {
    var hops = 0;
    while (obj && typeof obj === 'object' && typeof obj.$ref === 'string' && hops < 20) {
      obj = resolvePointer(obj.$ref);
      hops += 1;
    }
    return obj && typeof obj === 'object' ? obj : {};
  }

  function schemaName(ref) {
    var m = /^#\/components\/schemas\/([^/]+)$/.exec(ref || '');
    return m ? decodeURIComponent(m[1]).replace(/~1/g, '/').replace(/~0/g, '~') : null;
  }

  function schemaAnchor(name) {
    return 'schema-' + slug(name);
  }

  function schemaLink(ref) {
    var name = schemaName(ref);
    if (!name) return el('code', { text: ref });
    return el('a', { href: '#' + schemaAnchor(name), class: 'ref', text: name });
  }

  /* ---------- schemas as nested lists ---------- */

  function typesOf(s) {
    var t = s.type;
    var list = Array.isArray(t) ? t.slice() : t ? [t] : [];
    if (s.nullable === true && list.indexOf('null') < 0) list.push('null');
    return list;
  }

  function formatValue(v) {
    if (v === 9007199254740991) return 'MAX_SAFE_INTEGER';
    if (typeof v === 'string') return JSON.stringify(v);
    try { return JSON.stringify(v); } catch (e) { return String(v); }
  }

  /** A short type node: "string (uuid)", a link to a named schema, "array of Obligation", "A | null". */
  function typeNode(schema) {
    var span = el('span', { class: 'type' });
    fillType(span, schema || {}, 0);
    return span;
  }

  function fillType(span, s, depth) {
    if (depth > 4) { add(span, '…'); return; }
    if (typeof s.$ref === 'string') { add(span, schemaLink(s.$ref)); return; }
    var types = typesOf(s);
    var alts = s.oneOf || s.anyOf || s.allOf;
    if (!types.length && Array.isArray(alts)) {
      alts.forEach(function (alt, i) {
        if (i) add(span, s.allOf ? ' & ' : ' | ');
        fillType(span, alt || {}, depth + 1);
      });
      return;
    }
    if (!types.length) {
      if (has(s, 'const')) types = [typeof s.const];
      else if (s.properties) types = ['object'];
      else if (s.items) types = ['array'];
      else types = ['any'];
    }
    types.forEach(function (t, i) {
      if (i) add(span, ' | ');
      if (t === 'array') {
        add(span, 'array of ');
        fillType(span, s.items || {}, depth + 1);
      } else {
        add(span, t);
      }
    });
    if (s.format) add(span, ' (' + s.format + ')');
  }

  function facts(s) {
    var list = el('ul', { class: 'facts' });
    function fact(label, value, code) {
      add(list, el('li', null, [el('span', { class: 'fact-label', text: label + ': ' }), code === false ? value : el('code', { text: value })]));
    }
    function range(label, min, max, unit) {
      if (min === undefined && max === undefined) return;
      if (min !== undefined && max !== undefined) fact(label, formatNum(min) + ' to ' + formatNum(max) + (unit || ''), false);
      else if (min !== undefined) fact(label, 'at least ' + formatNum(min) + (unit || ''), false);
      else fact(label, 'at most ' + formatNum(max) + (unit || ''), false);
    }
    function formatNum(n) {
      return n === 9007199254740991 ? 'MAX_SAFE_INTEGER' : String(n);
    }
    if (has(s, 'const')) fact('value', formatValue(s.const));
    if (Array.isArray(s.enum)) {
      var values = el('span');
      s.enum.forEach(function (v, i) {
        if (i) add(values, ', ');
        add(values, el('code', { text: formatValue(v) }));
      });
      fact('one of', values, false);
    }
    if (s.pattern) fact('pattern', s.pattern);
    range('length', s.minLength, s.maxLength, ' characters');
    range('value', s.minimum, s.maximum);
    if (s.exclusiveMinimum !== undefined && typeof s.exclusiveMinimum !== 'boolean') fact('greater than', String(s.exclusiveMinimum), false);
    if (s.exclusiveMaximum !== undefined && typeof s.exclusiveMaximum !== 'boolean') fact('less than', String(s.exclusiveMaximum), false);
    range('items', s.minItems, s.maxItems);
    if (s.uniqueItems) fact('items', 'unique', false);
    if (has(s, 'default')) fact('default', formatValue(s.default));
    if (has(s, 'example')) fact('example', formatValue(s.example));
    if (Array.isArray(s.examples) && s.examples.length) fact('examples', s.examples.map(formatValue).join(', '));
    if (s.additionalProperties === false) fact('other properties', 'not allowed', false);
    if (s.readOnly) fact('access', 'read-only', false);
    if (s.writeOnly) fact('access', 'write-only', false);
    if (s.deprecated) fact('status', 'deprecated', false);
    return list.childNodes.length ? list : null;
  }

  function isComplex(s, seen) {
    if (typeof s.$ref === 'string') return seen.indexOf(s.$ref) < 0;
    if (s.properties || s.oneOf || s.anyOf || s.allOf) return true;
    if (s.items) return isComplex(s.items, seen);
    return s.additionalProperties !== null && typeof s.additionalProperties === 'object' && Object.keys(s.additionalProperties).length > 0;
  }

  /** Description, facts and children of a schema; refs are expanded once per branch (cycles stop). */
  function schemaBody(schema, depth, seen, withDescription) {
    var frag = document.createDocumentFragment();
    var s = schema || {};
    if (typeof s.$ref === 'string') {
      if (seen.indexOf(s.$ref) >= 0 || depth > MAX_DEPTH) {
        add(frag, el('p', { class: 'muted' }, ['Recursive: see ', schemaLink(s.$ref), '.']));
        return frag;
      }
      seen = seen.concat(s.$ref);
      s = deref(s);
    }
    if (depth > MAX_DEPTH) {
      add(frag, el('p', { class: 'muted', text: '… (nested too deep to show here)' }));
      return frag;
    }
    if (withDescription !== false && s.description) add(frag, richText(s.description, 'desc'));
    add(frag, facts(s));
    if (s.properties && typeof s.properties === 'object') add(frag, propertyList(s, depth, seen));
    if (s.items && isComplex(s.items, seen)) {
      add(frag, el('div', { class: 'nested' }, [el('p', { class: 'nested-label' }, ['Each item: ', typeNode(s.items)]), schemaBody(s.items, depth + 1, seen)]));
    }
    [['oneOf', 'Exactly one of'], ['anyOf', 'Any of'], ['allOf', 'All of']].forEach(function (pair) {
      var alts = s[pair[0]];
      if (!Array.isArray(alts) || !alts.length) return;
      var list = el('ol', { class: 'variants' });
      alts.forEach(function (alt, i) {
        alt = alt || {};
        add(list, el('li', null, [el('p', { class: 'variant-head' }, ['Option ' + (i + 1) + ': ', typeNode(alt)]), isComplex(alt, seen) || deref(alt).description ? schemaBody(alt, depth + 1, seen) : null]));
      });
      add(frag, el('div', { class: 'nested' }, [el('p', { class: 'nested-label', text: pair[1] + ':' }), list]));
    });
    var extra = s.additionalProperties;
    if (extra === true || (extra && typeof extra === 'object' && !Object.keys(extra).length && s.properties)) {
      add(frag, el('p', { class: 'muted', text: 'Other properties are allowed.' }));
    } else if (extra && typeof extra === 'object' && Object.keys(extra).length) {
      add(frag, el('div', { class: 'nested' }, [el('p', { class: 'nested-label' }, ['Other properties: ', typeNode(extra)]), schemaBody(extra, depth + 1, seen)]));
    }
    return frag;
  }

  function propertyList(s, depth, seen) {
    var required = Array.isArray(s.required) ? s.required : [];
    var list = el('ul', { class: 'props' });
    Object.keys(s.properties).forEach(function (name) {
      var prop = s.properties[name] || {};
      var isRequired = required.indexOf(name) >= 0;
      var item = el('li', { class: 'prop' }, [
        el('div', { class: 'prop-head' }, [
          el('code', { class: 'prop-name', text: name }), ' ',
          typeNode(prop), ' ',
          el('span', { class: isRequired ? 'badge required' : 'badge optional', text: isRequired ? 'required' : 'optional' })
        ])
      ]);
      add(item, schemaBody(prop, depth + 1, seen));
      add(list, item);
    });
    return list;
  }

  function schemaView(schema) {
    var box = el('div', { class: 'schema' });
    if (schema && typeof schema.$ref === 'string') add(box, el('p', { class: 'schema-name' }, ['Schema ', schemaLink(schema.$ref), ' · ', typeNode(deref(schema))]));
    else add(box, el('p', { class: 'schema-name' }, ['Type ', typeNode(schema || {})]));
    add(box, schemaBody(schema || {}, 0, []));
    return box;
  }

  /* ---------- examples built from schemas ---------- */

  function exampleFor(schema, depth, seen) {
    var s = schema || {};
    if (depth > MAX_DEPTH) return null;
    if (typeof s.$ref === 'string') {
      if (seen.indexOf(s.$ref) >= 0) return null;
      return exampleFor(deref(s), depth + 1, seen.concat(s.$ref));
    }
    if (has(s, 'example')) return s.example;
    if (Array.isArray(s.examples) && s.examples.length) return s.examples[0];
    if (has(s, 'const')) return s.const;
    if (has(s, 'default')) return s.default;
    if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
    var alts = s.oneOf || s.anyOf;
    if (Array.isArray(alts) && alts.length) {
      var pick = alts.filter(function (a) { return typesOf(deref(a)).join() !== 'null'; })[0] || alts[0];
      return exampleFor(pick, depth + 1, seen);
    }
    if (Array.isArray(s.allOf) && s.allOf.length) {
      var merged = {};
      s.allOf.forEach(function (part) {
        var v = exampleFor(part, depth + 1, seen);
        if (v && typeof v === 'object' && !Array.isArray(v)) Object.keys(v).forEach(function (k) { merged[k] = v[k]; });
      });
      return merged;
    }
    var type = typesOf(s).filter(function (t) { return t !== 'null'; })[0] || (s.properties ? 'object' : s.items ? 'array' : null);
    if (type === 'object') {
      var obj = {};
      var required = Array.isArray(s.required) ? s.required : [];
      Object.keys(s.properties || {}).forEach(function (key) {
        var prop = s.properties[key] || {};
        var target = deref(prop);
        var hinted = has(target, 'example') || has(target, 'default') || has(target, 'const') || has(prop, 'example') || has(prop, 'default');
        if (required.indexOf(key) >= 0 || hinted) obj[key] = exampleFor(prop, depth + 1, seen);
      });
      return obj;
    }
    if (type === 'array') {
      return s.minItems === 0 ? [] : [exampleFor(s.items || {}, depth + 1, seen)];
    }
    if (type === 'string') {
      var now = new Date();
      switch (s.format) {
        case 'date-time': return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
        case 'date': return now.toISOString().slice(0, 10);
        case 'uuid': return '3fa85f64-5717-4562-b3fc-2c963f66afa6';
        case 'uri': case 'url': return location.origin + '/docs';
        case 'email': return 'user@example.com';
        default: return 'string';
      }
    }
    if (type === 'integer' || type === 'number') {
      if (typeof s.minimum === 'number') return s.minimum;
      if (typeof s.exclusiveMinimum === 'number') return s.exclusiveMinimum + 1;
      return 0;
    }
    if (type === 'boolean') return false;
    return null;
  }

  /* ---------- operations ---------- */

  function collectOperations() {
    var groups = [];
    var byTag = {};
    var declared = Array.isArray(spec.tags) ? spec.tags : [];
    declared.forEach(function (t) {
      if (t && t.name && !byTag[t.name]) { byTag[t.name] = { name: t.name, description: t.description, ops: [] }; groups.push(byTag[t.name]); }
    });
    var paths = spec.paths || {};
    Object.keys(paths).forEach(function (path) {
      var item = deref(paths[path]);
      METHODS.forEach(function (method) {
        var op = item[method];
        if (!op || typeof op !== 'object') return;
        var tag = Array.isArray(op.tags) && op.tags.length ? String(op.tags[0]) : 'Other';
        if (!byTag[tag]) { byTag[tag] = { name: tag, ops: [] }; groups.push(byTag[tag]); }
        var params = [];
        var seen = {};
        (op.parameters || []).concat(item.parameters || []).forEach(function (p) {
          var param = deref(p);
          var key = String(param.in) + ':' + String(param.name).toLowerCase();
          if (!param.name || seen[key]) return;
          seen[key] = true;
          params.push(param);
        });
        byTag[tag].ops.push({
          method: method,
          path: path,
          op: op,
          params: params,
          id: 'op-' + slug(op.operationId || (method + '-' + path))
        });
      });
    });
    return groups.filter(function (g) { return g.ops.length; });
  }

  function securityOf(op) {
    var sec = Array.isArray(op.security) ? op.security : Array.isArray(spec.security) ? spec.security : [];
    var names = [];
    sec.forEach(function (req) {
      Object.keys(req || {}).forEach(function (n) { if (names.indexOf(n) < 0) names.push(n); });
    });
    return names;
  }

  function schemeText(name) {
    var scheme = deref(((spec.components || {}).securitySchemes || {})[name]);
    if (scheme.type === 'http') return 'HTTP ' + (scheme.scheme || '') + (scheme.bearerFormat ? ' (' + scheme.bearerFormat + ')' : '');
    if (scheme.type === 'apiKey') return 'API key in ' + scheme.in + ' ' + scheme.name;
    return scheme.type || 'unknown';
  }

  function statusText(code) {
    return REASONS[code] || (/^\dXX$/i.test(code) ? code.charAt(0) + 'xx responses' : code === 'default' ? 'Any other status' : '');
  }

  function statusClass(code) {
    var c = String(code).charAt(0);
    return c === '2' ? 'ok' : c === '3' ? 'info' : c === '4' || c === '5' ? 'err' : 'info';
  }

  function paramsTable(params) {
    var table = el('table', { class: 'params' }, [
      el('thead', null, el('tr', null, ['Name', 'In', 'Type', 'Required', 'Description'].map(function (h) { return el('th', { scope: 'col', text: h }); })))
    ]);
    var body = el('tbody');
    params.forEach(function (p) {
      var schema = p.schema || {};
      var desc = el('td');
      if (p.description) add(desc, richText(p.description));
      else if (deref(schema).description) add(desc, richText(deref(schema).description));
      add(desc, facts(deref(schema)));
      if (has(p, 'example')) add(desc, el('p', null, ['Example: ', el('code', { text: formatValue(p.example) })]));
      add(body, el('tr', null, [
        el('th', { scope: 'row' }, el('code', { text: p.name })),
        el('td', { text: p.in }),
        el('td', null, typeNode(schema)),
        el('td', null, p.required ? el('span', { class: 'badge required', text: 'required' }) : el('span', { class: 'badge optional', text: 'optional' })),
        desc
      ]));
    });
    return add(table, body);
  }

  function contentBlocks(content) {
    var frag = document.createDocumentFragment();
    Object.keys(content || {}).forEach(function (type) {
      var media = content[type] || {};
      add(frag, el('div', { class: 'media' }, [
        el('p', { class: 'media-type' }, ['Content type ', el('code', { text: type })]),
        media.schema ? schemaView(media.schema) : el('p', { class: 'muted', text: 'No schema given.' }),
        has(media, 'example') ? el('pre', { class: 'example', tabindex: '0', 'aria-label': 'Example ' + type, text: JSON.stringify(media.example, null, 2) }) : null
      ]));
    });
    return frag;
  }

  function renderOperation(entry) {
    var op = entry.op;
    var method = entry.method.toUpperCase();
    var headingId = entry.id + '-h';
    var article = el('article', { class: 'op', id: entry.id, 'aria-labelledby': headingId, 'data-search': [method, entry.path, op.summary, op.operationId, op.description].join(' ').toLowerCase() });

    add(article, el('h3', { id: headingId, class: 'op-title' }, [
      el('span', { class: 'method m-' + entry.method, text: method }), ' ',
      pathText(entry.path, 'path')
    ]));
    if (op.summary) add(article, richText(op.summary, 'summary'));
    if (op.description) add(article, richText(op.description, 'desc'));
    if (op.deprecated) add(article, el('p', { class: 'warn', text: 'Deprecated.' }));

    var security = securityOf(op);
    var meta = el('dl', { class: 'meta' }, [
      el('dt', { text: 'Operation ID' }), el('dd', null, el('code', { text: op.operationId || '(none)' })),
      el('dt', { text: 'Authentication' }),
      el('dd', null, security.length ? security.map(function (n, i) { return el('span', null, [i ? ', ' : '', el('code', { text: n }), ' — ' + schemeText(n)]); }) : 'none')
    ]);
    add(article, meta);

    if (entry.params.length) {
      add(article, el('h4', { text: 'Parameters' }));
      add(article, el('div', { class: 'table-wrap' }, paramsTable(entry.params)));
    }

    var body = op.requestBody ? deref(op.requestBody) : null;
    if (body) {
      add(article, el('h4', null, ['Request body ', body.required ? el('span', { class: 'badge required', text: 'required' }) : el('span', { class: 'badge optional', text: 'optional' })]));
      if (body.description) add(article, richText(body.description, 'desc'));
      add(article, contentBlocks(body.content));
    }

    add(article, el('h4', { text: 'Responses' }));
    var responses = op.responses || {};
    var list = el('div', { class: 'responses' });
    Object.keys(responses).sort().forEach(function (code) {
      var res = deref(responses[code]);
      var details = el('details', { class: 'response' });
      if (String(code).charAt(0) === '2') details.open = true;
      add(details, el('summary', null, [
        el('span', { class: 'status ' + statusClass(code), text: code }), ' ',
        el('span', { class: 'reason', text: statusText(code) }),
        res.description ? el('span', { class: 'res-desc' }, [' — ', inlineText(res.description)]) : null
      ]));
      if (res.content && Object.keys(res.content).length) add(details, contentBlocks(res.content));
      else add(details, el('p', { class: 'muted', text: 'No body.' }));
      if (res.headers) {
        add(details, el('p', { class: 'nested-label', text: 'Headers: ' + Object.keys(res.headers).join(', ') }));
      }
      add(list, details);
    });
    add(article, list);

    add(article, tryPanel(entry, body));
    return article;
  }

  /* ---------- try it ---------- */

  function fieldFor(entry, param, formId) {
    var schema = deref(param.schema || {});
    var id = uid(formId + '-' + param.in + '-' + slug(param.name));
    var hintId = id + '-hint';
    var label = el('label', { for: id }, [
      el('code', { text: param.name }),
      el('span', { class: 'muted', text: ' (' + param.in + (param.required ? ', required' : ', optional') + ')' })
    ]);
    var input;
    var values = Array.isArray(schema.enum) ? schema.enum : typesOf(schema).indexOf('boolean') >= 0 ? [true, false] : null;
    if (values) {
      input = el('select', { id: id, required: !!param.required, 'aria-describedby': hintId });
      add(input, el('option', { value: '', text: param.required ? 'Choose…' : '(not sent)' }));
      values.forEach(function (v) { add(input, el('option', { value: String(v), text: String(v) })); });
    } else {
      input = el('input', { id: id, type: 'text', required: !!param.required, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': hintId });
      var example = has(param, 'example') ? param.example : has(schema, 'example') ? schema.example : null;
      if (example !== null) input.placeholder = String(example);
    }
    input.dataset.in = param.in;
    input.dataset.name = param.name;
    var hint = el('span', { id: hintId, class: 'hint' });
    var line = el('div', { class: 'row' }, input);
    var row = el('div', { class: 'field' }, [label, line, hint]);
    if (param.in === 'header' && String(param.name).toLowerCase() === 'idempotency-key') {
      input.value = newIdempotencyKey();
      add(hint, 'A fresh random key: the same key with the same body replays the first answer; “New key” starts over.');
      add(line, el('button', { type: 'button', class: 'secondary', onclick: function () { input.value = newIdempotencyKey(); input.focus(); } }, 'New key'));
    } else if (schema.pattern) {
      add(hint, 'Pattern ');
      add(hint, el('code', { text: schema.pattern }));
    } else if (schema.format) {
      add(hint, 'Format ' + schema.format);
    }
    return row;
  }

  function tryPanel(entry, body) {
    var op = entry.op;
    var formId = 'try-' + entry.id.slice(3);
    var details = el('details', { class: 'try' });
    add(details, el('summary', null, ['Try it', el('span', { class: 'visually-hidden', text: ': ' + entry.method.toUpperCase() + ' ' + entry.path })]));
    var form = el('form', { class: 'try-form', id: formId });
    var fields = entry.params.filter(function (p) { return p.in === 'path' || p.in === 'query' || p.in === 'header'; });
    if (fields.length) {
      var fieldset = el('fieldset', null, el('legend', { text: 'Parameters' }));
      fields.forEach(function (p) { add(fieldset, fieldFor(entry, p, formId)); });
      add(form, fieldset);
    }

    var bodyArea = null;
    var bodyType = null;
    var example = '';
    if (body && body.content) {
      var types = Object.keys(body.content);
      bodyType = types.filter(function (t) { return /json/i.test(t); })[0] || types[0] || null;
      if (bodyType) {
        var media = body.content[bodyType] || {};
        var value = has(media, 'example') ? media.example : exampleFor(media.schema || {}, 0, []);
        example = /json/i.test(bodyType) ? JSON.stringify(value, null, 2) : value === null ? '' : String(value);
        var areaId = formId + '-body';
        bodyArea = el('textarea', { id: areaId, rows: String(Math.min(18, Math.max(4, example.split('\n').length + 1))), spellcheck: 'false', 'aria-describedby': areaId + '-hint' });
        bodyArea.value = example;
        bodyArea.addEventListener('keydown', function (ev) {
          if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); submit(); }
        });
        add(form, el('div', { class: 'field body-field' }, [
          el('label', { for: areaId }, ['Request body ', el('span', { class: 'muted', text: '(' + bodyType + (body.required ? ', required' : '') + ')' })]),
          bodyArea,
          el('span', { id: areaId + '-hint', class: 'hint', text: 'Prefilled with an example built from the schema. Ctrl+Enter sends.' }),
          el('button', { type: 'button', class: 'secondary', onclick: function () { bodyArea.value = example; bodyArea.focus(); } }, 'Reset example')
        ]));
      }
    }

    var accepts = [];
    Object.keys(op.responses || {}).forEach(function (code) {
      Object.keys(deref(op.responses[code]).content || {}).forEach(function (t) { if (accepts.indexOf(t) < 0 && code.charAt(0) === '2') accepts.push(t); });
    });
    var acceptSelect = null;
    if (accepts.length > 1) {
      var acceptId = formId + '-accept';
      acceptSelect = el('select', { id: acceptId });
      accepts.forEach(function (t) { add(acceptSelect, el('option', { value: t, text: t })); });
      add(form, el('div', { class: 'field' }, [el('label', { for: acceptId }, [el('code', { text: 'Accept' }), el('span', { class: 'muted', text: ' (response format)' })]), acceptSelect]));
    }

    var sendButton = el('button', { type: 'submit', class: 'primary', text: 'Send' });
    var secure = securityOf(op).length > 0;
    add(form, el('div', { class: 'actions' }, [
      sendButton,
      el('span', { class: 'hint', text: secure ? 'Sends the bearer token from the top of the page.' : 'Sent without a token.' })
    ]));

    var live = el('p', { class: 'result-status', role: 'status', 'aria-live': 'polite' });
    var output = el('div', { class: 'result', hidden: true });
    add(form, live);
    add(form, output);

    function submit() {
      if (typeof form.requestSubmit === 'function') form.requestSubmit(sendButton);
      else sendButton.click();
    }

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var pathValues = {};
      var query = new URLSearchParams();
      var headers = {};
      Array.prototype.forEach.call(form.querySelectorAll('[data-in]'), function (input) {
        var v = input.value.trim();
        if (input.dataset.in === 'path') pathValues[input.dataset.name] = v;
        else if (v === '') return;
        else if (input.dataset.in === 'query') query.append(input.dataset.name, v);
        else if (input.dataset.in === 'header') headers[input.dataset.name] = v;
      });
      var url = entry.path.replace(/\{([^}]+)\}/g, function (m, name) { return encodeURIComponent(pathValues[name] || ''); });
      var qs = query.toString();
      if (qs) url += '?' + qs;
      var init = { method: entry.method.toUpperCase(), headers: headers, credentials: 'same-origin', redirect: 'manual' };
      headers.Accept = acceptSelect ? acceptSelect.value : 'application/json, application/problem+json';
      if (bodyArea && bodyArea.value.trim() !== '') {
        if (/json/i.test(bodyType)) {
          try { JSON.parse(bodyArea.value); } catch (e) {
            showLocalError('The request body is not valid JSON: ' + e.message);
            bodyArea.focus();
            return;
          }
        }
        headers['Content-Type'] = bodyType;
        init.body = bodyArea.value;
      }
      var token = currentToken();
      if (secure && token) headers.Authorization = 'Bearer ' + token;
      run(init, url, secure && !token);
    });

    function showLocalError(message) {
      output.hidden = true;
      live.className = 'result-status err';
      live.textContent = message;
    }

    function run(init, url, missingToken) {
      sendButton.disabled = true;
      live.className = 'result-status';
      live.textContent = 'Sending ' + init.method + ' ' + url + '…';
      var started = performance.now();
      fetch(url, init).then(function (res) {
        return res.text().then(function (text) { show(init, url, res, text, Math.round(performance.now() - started), missingToken); });
      }).catch(function (e) {
        showLocalError('The request failed before an answer came back: ' + (e && e.message ? e.message : String(e)));
      }).then(function () {
        sendButton.disabled = false;
      });
    }

    function show(init, url, res, text, ms, missingToken) {
      var status = res.status;
      var reason = res.statusText || REASONS[status] || '';
      live.className = 'result-status ' + statusClass(String(status));
      live.textContent = (res.type === 'opaqueredirect' ? 'Redirect (not followed)' : status + ' ' + reason) + ' — ' + init.method + ' ' + url + ' in ' + ms + ' ms';
      output.textContent = '';
      output.hidden = false;
      var contentType = res.headers.get('content-type') || '';
      var requestId = res.headers.get('x-request-id');
      var dl = el('dl', { class: 'meta res-headers' }, [
        el('dt', { text: 'Status' }), el('dd', null, el('span', { class: 'status ' + statusClass(String(status)), text: String(status) + (reason ? ' ' + reason : '') })),
        el('dt', { text: 'x-request-id' }), el('dd', null, el('code', { class: 'request-id', text: requestId || '(none)' }))
      ]);
      var names = [];
      res.headers.forEach(function (value, name) { if (name !== 'x-request-id') names.push([name, value]); });
      names.sort(function (a, b) { return a[0] < b[0] ? -1 : 1; }).forEach(function (h) {
        add(dl, [el('dt', { text: h[0] }), el('dd', null, el('code', { text: h[1] }))]);
      });
      add(output, el('h5', { text: 'Response' }));
      add(output, dl);
      if (missingToken && status === 401) add(output, el('p', { class: 'warn', text: 'No bearer token was sent: paste one in “Authentication” at the top of the page.' }));
      var pretty = text;
      var problem = null;
      if (/json/i.test(contentType) && text) {
        try {
          var parsed = JSON.parse(text);
          pretty = JSON.stringify(parsed, null, 2);
          if (/problem\+json/i.test(contentType)) problem = parsed;
        } catch (e) { /* shown as received */ }
      }
      if (problem && typeof problem === 'object') {
        add(output, el('p', { class: 'problem' }, [
          el('strong', { text: 'Problem ' }), el('code', { text: String(problem.code || problem.type || '') }),
          problem.detail ? ' — ' + String(problem.detail) : ''
        ]));
      }
      add(output, el('pre', { class: 'response-body', tabindex: '0', 'aria-label': 'Response body', text: pretty === '' ? '(empty body)' : pretty }));
    }

    add(details, form);
    return details;
  }

  /* ---------- page sections ---------- */

  function currentToken() {
    var v = tokenInput ? tokenInput.value.trim() : '';
    return v.replace(/^bearer\s+/i, '');
  }

  function readStoredToken() {
    try { return window.sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }

  function storeToken(value) {
    try {
      if (value) window.sessionStorage.setItem(TOKEN_KEY, value);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage unavailable: the field still works for this page */ }
  }

  function renderInfo() {
    var info = spec.info || {};
    var title = document.getElementById('api-title');
    if (title && info.title) title.textContent = info.title;
    if (info.title) document.title = info.title + ' — API documentation';
    var box = document.getElementById('api-info');
    box.textContent = '';
    add(box, el('p', { class: 'versions' }, [
      el('span', { class: 'pill', text: 'Version ' + (info.version || '?') }), ' ',
      el('span', { class: 'pill', text: 'OpenAPI ' + (spec.openapi || '?') })
    ]));
    if (info.description) add(box, richText(info.description, 'lead'));
    var servers = Array.isArray(spec.servers) ? spec.servers : [];
    var origin = location.origin;
    var items = [el('li', null, ['This page sends requests to ', el('code', { text: origin }), ' (same origin).'])];
    servers.forEach(function (s) {
      if (s && s.url && s.url !== origin) items.push(el('li', null, ['Declared server: ', el('code', { text: s.url }), s.description ? ' — ' : '', s.description ? inlineText(s.description) : null]));
    });
    add(box, el('ul', { class: 'servers' }, items));
  }

  function renderAuth() {
    var schemes = (spec.components || {}).securitySchemes || {};
    var section = el('section', { class: 'auth', 'aria-labelledby': 'auth-h' }, el('h2', { id: 'auth-h', text: 'Authentication' }));
    var dl = el('dl', { class: 'meta' });
    Object.keys(schemes).forEach(function (name) {
      var scheme = deref(schemes[name]);
      add(dl, [el('dt', null, el('code', { text: name })), el('dd', null, [schemeText(name), scheme.description ? el('span', { class: 'block' }, richText(scheme.description)) : null])]);
    });
    if (dl.childNodes.length) add(section, dl);

    tokenInput = el('input', { id: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'token-hint', placeholder: 'eyJhbGciOi…' });
    tokenInput.value = readStoredToken();
    tokenInput.addEventListener('input', function () { storeToken(currentToken()); });
    var show = el('input', { id: 'token-show', type: 'checkbox' });
    show.addEventListener('change', function () { tokenInput.type = show.checked ? 'text' : 'password'; });
    var clear = el('button', { type: 'button', class: 'secondary', text: 'Forget token' });
    clear.addEventListener('click', function () { tokenInput.value = ''; storeToken(''); tokenInput.focus(); });
    add(section, el('div', { class: 'field token-field' }, [
      el('label', { for: 'token', text: 'Bearer token (JWT)' }),
      el('div', { class: 'row' }, [tokenInput, el('label', { class: 'inline', for: 'token-show' }, [show, ' Show']), clear]),
      el('span', { id: 'token-hint', class: 'hint', text: 'Kept in this tab’s sessionStorage only (gone when the tab closes) and sent as “Authorization: Bearer …” by every Send below. “Bearer ” in front is optional.' })
    ]));
    return section;
  }

  function renderToc(groups) {
    tocEl.textContent = '';
    var filterId = 'op-filter';
    var filter = el('input', { id: filterId, type: 'search', autocomplete: 'off', 'aria-controls': 'docs' });
    add(tocEl, el('p', { class: 'toc-title', text: 'Operations' }));
    add(tocEl, el('div', { class: 'field' }, [el('label', { for: filterId, text: 'Filter' }), filter]));
    var list = el('ul', { class: 'toc-list' });
    groups.forEach(function (g) {
      var sub = el('ul');
      g.ops.forEach(function (entry) {
        add(sub, el('li', { 'data-op': entry.id }, el('a', { href: '#' + entry.id }, [
          el('span', { class: 'method small m-' + entry.method, text: entry.method.toUpperCase() }), ' ',
          pathText(entry.path, 'toc-path')
        ])));
      });
      add(list, el('li', null, [el('a', { href: '#tag-' + slug(g.name), class: 'toc-tag', text: g.name }), sub]));
    });
    var schemas = (spec.components || {}).schemas || {};
    if (Object.keys(schemas).length) add(list, el('li', null, el('a', { href: '#schemas', class: 'toc-tag', text: 'Schemas' })));
    add(tocEl, list);
    filter.addEventListener('input', function () {
      var q = filter.value.trim().toLowerCase();
      var shown = 0;
      Array.prototype.forEach.call(document.querySelectorAll('article.op'), function (a) {
        var match = !q || a.getAttribute('data-search').indexOf(q) >= 0;
        a.hidden = !match;
        if (match) shown += 1;
        var li = tocEl.querySelector('[data-op="' + a.id + '"]');
        if (li) li.hidden = !match;
      });
      Array.prototype.forEach.call(document.querySelectorAll('section.tag'), function (sec) {
        sec.hidden = !sec.querySelector('article.op:not([hidden])');
      });
      statusEl.textContent = q ? shown + ' operation' + (shown === 1 ? '' : 's') + ' match “' + filter.value.trim() + '”.' : '';
    });
  }

  function renderSchemas() {
    var schemas = (spec.components || {}).schemas || {};
    var names = Object.keys(schemas).sort();
    if (!names.length) return null;
    var section = el('section', { id: 'schemas', class: 'schemas', 'aria-labelledby': 'schemas-h' }, [
      el('h2', { id: 'schemas-h', text: 'Schemas' }),
      el('p', { class: 'muted', text: 'The named schemas operations refer to.' })
    ]);
    names.forEach(function (name) {
      var ref = '#/components/schemas/' + name.replace(/~/g, '~0').replace(/\//g, '~1');
      var details = el('details', { class: 'schema-def', id: schemaAnchor(name) }, [
        el('summary', null, [el('code', { text: name }), ' ', el('span', { class: 'muted' }, typeNode(schemas[name] || {}))])
      ]);
      var box = el('div', { class: 'schema' });
      add(box, schemaBody({ $ref: ref }, 0, []));
      add(details, box);
      add(section, details);
    });
    return section;
  }

  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (!id) return;
    var target = document.getElementById(id);
    if (!target) return;
    if (target.tagName === 'DETAILS') target.open = true;
    target.scrollIntoView();
  }

  function render() {
    var groups = collectOperations();
    renderInfo();
    docsEl.textContent = '';
    add(docsEl, renderAuth());
    var count = 0;
    groups.forEach(function (g) {
      var section = el('section', { class: 'tag', id: 'tag-' + slug(g.name), 'aria-labelledby': 'tag-' + slug(g.name) + '-h' }, el('h2', { id: 'tag-' + slug(g.name) + '-h', text: g.name }));
      if (g.description) add(section, richText(g.description, 'desc'));
      g.ops.forEach(function (entry) { add(section, renderOperation(entry)); count += 1; });
      add(docsEl, section);
    });
    add(docsEl, renderSchemas());
    renderToc(groups);
    docsEl.setAttribute('aria-busy', 'false');
    docsEl.setAttribute('data-operations', String(count));
    statusEl.textContent = '';
    document.documentElement.classList.add('docs-ready');
    window.addEventListener('hashchange', openTarget);
    openTarget();
  }

  function fail(message, detail) {
    docsEl.setAttribute('aria-busy', 'false');
    statusEl.textContent = '';
    statusEl.className = 'alert';
    statusEl.setAttribute('role', 'alert');
    add(statusEl, [message + ' ', el('a', { href: SPEC_URL, text: 'Open /openapi.json' }), ' to see the raw answer.']);
    if (detail) add(statusEl, el('pre', { class: 'response-body', text: detail }));
  }

  docsEl.setAttribute('aria-busy', 'true');
  statusEl.textContent = 'Loading the API description…';
  fetch(SPEC_URL, { headers: { Accept: 'application/json' }, credentials: 'same-origin' }).then(function (res) {
    return res.text().then(function (text) {
      var doc = null;
      try { doc = JSON.parse(text); } catch (e) { /* below */ }
      if (!res.ok || !doc || typeof doc !== 'object' || !doc.paths) {
        fail('The API description could not be loaded (HTTP ' + res.status + ').', doc ? JSON.stringify(doc, null, 2) : text.slice(0, 2000));
        return;
      }
      spec = doc;
      try { render(); } catch (e) { fail('The API description could not be rendered: ' + (e && e.message ? e.message : String(e)) + '.'); }
    });
  }).catch(function (e) {
    fail('The API description could not be loaded: ' + (e && e.message ? e.message : String(e)) + '.');
  });
})();
`;
