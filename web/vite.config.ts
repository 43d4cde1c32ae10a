import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The admin console: built into web/dist (npm install's prepare step), served by `usersync serve` at /.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
