// Builds the playground into dist/, which is committed: the gateway serves it and needs no Node.
// Every URL in the built page is relative (base "./"), so it works under /playground/ and loads
// nothing from anywhere else.
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 8000,
    rolldownOptions: {
      // React libraries mark modules "use client", which means nothing in a plain bundle.
      onLog(level, log, handler) {
        if (log.code !== "MODULE_LEVEL_DIRECTIVE") handler(level, log);
      },
    },
  },
  worker: { format: "es" },
  oxc: { jsx: { runtime: "automatic" } },
});
