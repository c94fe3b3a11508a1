// The web UI's build: `npm run build:ui` writes ui/dist/, which the HTTP API serves at `/`
// (src/server/http/ui-static.ts). `npx vite ui` serves it in development, proxying /api to a
// running `tessera serve` on port 4000.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // React Flow and CodeMirror are the bulk; one chunk each keeps the first page light.
    chunkSizeWarningLimit: 1200,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:4000' } },
});
