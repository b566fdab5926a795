// The explorer's build: `npm run build` writes dist/ (index.html and hashed assets/), which the
// gateway serves: the page at GET /graphql, the assets under /graphql/explorer/assets/.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/graphql/explorer/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Fonts and images as files, never data: URIs; no source maps in what is served.
    assetsInlineLimit: 0,
    sourcemap: false,
    // Monaco and GraphiQL are large by nature; browsers cache them for a year (hashed names).
    chunkSizeWarningLimit: 6000,
    modulePreload: { polyfill: false },
    rolldownOptions: {
      onwarn(warning, warn) {
        // framer-motion's "use client" marks are for React Server Components: nothing here.
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  logLevel: 'warn',
});
