// Compose subgraph SDLs into a supergraph with The Guild's composition library (the one
// Hive Gateway is built around; MIT, the same rules and messages as @apollo/composition).
//
//   node compose.mjs supergraph.graphql partner=http://127.0.0.1:8000/graphql=partner.graphql \
//       learning=http://127.0.0.1:4002/graphql=learning.graphql
//
// Each argument after the output is NAME=ROUTING_URL=SDL_FILE. Composition errors are
// printed one a line and the exit status is 1; nothing is written then.
import { readFileSync, writeFileSync } from "node:fs";
import { composeServices, compositionHasErrors } from "@theguild/federation-composition";
import { parse } from "graphql";

const [output, ...specs] = process.argv.slice(2);
if (!output || specs.length === 0) {
  console.error("usage: node compose.mjs OUTPUT NAME=URL=SDL_FILE...");
  process.exit(2);
}

const services = specs.map((spec) => {
  const first = spec.indexOf("=");
  const last = spec.lastIndexOf("=");
  if (first <= 0 || last === first) {
    console.error(`not NAME=URL=SDL_FILE: ${spec}`);
    process.exit(2);
  }
  return {
    name: spec.slice(0, first),
    url: spec.slice(first + 1, last),
    typeDefs: parse(readFileSync(spec.slice(last + 1), "utf8")),
  };
});

const result = composeServices(services);
if (compositionHasErrors(result)) {
  for (const error of result.errors) {
    console.error(`composition error: ${error.message}`);
  }
  process.exit(1);
}
writeFileSync(output, result.supergraphSdl);
console.log(`composed ${services.map((s) => s.name).join(" + ")} into ${output}`);
