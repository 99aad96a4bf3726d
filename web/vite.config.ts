import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Served by Gatehouse at /ui/ (src/server/ui/register-dashboard.ts); built into web/dist.
export default defineConfig({
  base: '/ui/',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1500 },
});
