// The partner API explorer: GraphiQL against this gateway's /graphql, from the gateway
// itself (no CDN), under the page's strict Content-Security-Policy.
import './style-nonce.js'; // first: every <style> created after this carries the CSP nonce
import 'graphiql/setup-workers/vite'; // Monaco's workers, built as files of their own
import 'graphiql/style.css';
import './explorer.css';

import { GraphiQL } from 'graphiql';
import { buildSchema } from 'graphql';
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';

import { exampleTabs } from './examples.js';

// The page is served at the endpoint's own URL (GET /graphql with Accept: text/html).
const ENDPOINT = window.location.pathname.replace(/\/+$/, '') || '/graphql';
const PLACEHOLDER = '<your key>';
const DEFAULT_HEADERS = '{\n  "Authorization": "Bearer <your key>"\n}';
const NO_KEY_YET =
  `Replace ${PLACEHOLDER} in the Headers tab below with your API key, ` +
  'as {"Authorization": "Bearer cgw_..."}, then run the operation again.';

function stillThePlaceholder(headers) {
  return Object.entries(headers).some(
    ([name, value]) =>
      name.toLowerCase() === 'authorization' && String(value).includes(PLACEHOLDER),
  );
}

// POST /graphql with the header editor's headers; never cookies. The gateway answers every
// outcome, refusals included, as GraphQL JSON.
async function fetcher(params, options) {
  const headers = options?.headers ?? {};
  if (stillThePlaceholder(headers)) {
    return { errors: [{ message: NO_KEY_YET }] };
  }
  const response = await fetch(ENDPOINT, {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(params),
    credentials: 'omit',
  });
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 500)}` }] };
  }
}

// The published SDL needs no key, so docs and completion work before one is entered;
// if it cannot be read, GraphiQL falls back to introspection (with the key).
async function publishedSchema() {
  try {
    const response = await fetch(`${ENDPOINT}/schema.graphql`, { credentials: 'omit' });
    return response.ok ? buildSchema(await response.text()) : undefined;
  } catch {
    return undefined;
  }
}

const root = createRoot(document.getElementById('explorer'));
root.render(
  createElement(
    GraphiQL,
    {
      fetcher,
      schema: await publishedSchema(),
      defaultTabs: exampleTabs(),
      defaultHeaders: DEFAULT_HEADERS,
      defaultEditorToolsVisibility: 'headers',
      shouldPersistHeaders: false,
    },
    createElement(GraphiQL.Logo, null, 'Partner API'),
  ),
);
