// Hive Gateway in front of the partner gateway (subgraph "partner") and the learning-paths
// subgraph ("learning"): the router configuration docs/federation.md explains.
//
//   ROUTER_SECRET=... hive-gateway supergraph supergraph.graphql --port 4000
//
// What reaches the partner gateway, and only it:
// - the partner's own Authorization or X-API-Key header: the gateway authenticates it;
// - X-Router-Secret (GATEWAY_ROUTER_SECRET there): the proof that this is the router, so
//   that the gateway takes the X-Forwarded-For below as the partner's address;
// - X-Forwarded-For: the partner's address: its connection's to this router, or, with
//   ROUTER_BEHIND_LOAD_BALANCER=1, the last entry of the X-Forwarded-For that the load
//   balancer in front (an AWS ALB, say) appended; never one the partner wrote itself, which
//   would let a key guesser pick a fresh address per guess;
// - traceparent / tracestate, when the partner sent them.
// Every subgraph gets the request ID: Hive Gateway keeps the client's X-Request-ID (or
// makes one) and sends it upstream as X-Request-ID.
// Back to the partner: the partner gateway's RateLimit headers and Retry-After.
import type { IncomingMessage } from 'node:http';
import { defineConfig } from '@graphql-hive/gateway';

const PARTNER_SUBGRAPH = 'partner';
const routerSecret = process.env.ROUTER_SECRET;
if (!routerSecret) {
  throw new Error('ROUTER_SECRET is required: the same value as the gateway\'s GATEWAY_ROUTER_SECRET');
}

const behindLoadBalancer = process.env.ROUTER_BEHIND_LOAD_BALANCER === '1';

// The peer address of each incoming request, as Node's HTTP server saw it.
const peerAddress = new WeakMap<Request, string>();

function partnerAddress(request: Request): string | undefined {
  if (behindLoadBalancer) {
    // The load balancer appends the address it saw: the last entry, whatever came before.
    const last = request.headers.get('x-forwarded-for')?.split(',').pop()?.trim();
    return last || undefined;
  }
  return peerAddress.get(request);
}

function partnerHeaders(request: Request): Record<string, string | null | undefined> {
  return {
    authorization: request.headers.get('authorization'),
    'x-api-key': request.headers.get('x-api-key'),
    traceparent: request.headers.get('traceparent'),
    tracestate: request.headers.get('tracestate'),
    'x-router-secret': routerSecret,
    'x-forwarded-for': partnerAddress(request),
  };
}

export const gatewayConfig = defineConfig({
  // Demand control from the subgraphs' @cost and @listSize (IBM cost spec): an operation the
  // router estimates above maxCost is refused before any subgraph is called. The partner
  // gateway still prices, throttles and records what reaches it, with its own plans.
  demandControl: {
    maxCost: Number(process.env.ROUTER_MAX_COST ?? 5000),
    listSize: 10, // for a list without @listSize: GATEWAY_DEFAULT_LIST_SIZE's default
    includeExtensionMetadata: true, // extensions.cost.estimated in every answer
  },
  plugins: () => [
    {
      // Remember the socket's address before anything else reads the request.
      onRequest({ request, serverContext }) {
        const req = (serverContext as { req?: IncomingMessage } | undefined)?.req;
        const address = req?.socket?.remoteAddress;
        if (address) {
          peerAddress.set(request, address.replace(/^::ffff:/, ''));
        }
      },
    },
  ],
  propagateHeaders: {
    fromClientToSubgraphs({ request, subgraphName }) {
      return subgraphName === PARTNER_SUBGRAPH ? partnerHeaders(request) : {};
    },
    fromSubgraphsToClient({ response, subgraphName }) {
      if (subgraphName !== PARTNER_SUBGRAPH) {
        return {};
      }
      return {
        ratelimit: response.headers.get('ratelimit'),
        'ratelimit-policy': response.headers.get('ratelimit-policy'),
        'retry-after': response.headers.get('retry-after'),
      } as Record<string, string>;
    },
  },
});
