import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Served on loopback only. The client is bundled from its TypeScript source (one copy of the
// generated code, no build step between them).
export default defineConfig({
  resolve: {
    alias: { '@ballast/client': fileURLToPath(new URL('../ts/src/index.ts', import.meta.url)) },
  },
  server: { host: '127.0.0.1', port: Number(process.env.BALLAST_WEB_PORT ?? 5173), strictPort: true },
  preview: { host: '127.0.0.1', port: Number(process.env.BALLAST_WEB_PORT ?? 4173), strictPort: true },
  build: { outDir: 'dist', target: 'es2022' },
});
