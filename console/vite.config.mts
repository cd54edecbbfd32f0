import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

// The console is served by the service at /console (src/http/console.ts); its hashed assets are
// cached for a year there. Nothing is inlined into the HTML: the page's CSP allows only files of
// the service's own origin.
export default defineConfig({
  root: here('.'),
  base: '/console/',
  publicDir: here('public'),
  build: {
    outDir: here('../build/console'),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
    target: 'es2022',
  },
  logLevel: 'warn',
});
