// ESLint flat config for fieldapp's browser code: `npm run lint` (eslint static/js service_worker).
import js from "@eslint/js";
import globals from "globals";

export default [
  {
    // The tablet app and the server pages' helper: ES modules loaded with <script type="module">.
    ...js.configs.recommended,
    files: ["static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: "module",
      globals: { ...globals.browser },
    },
  },
  {
    // The service worker is a classic script: it is registered without { type: "module" }, so
    // it has no import/export and its top-level names are the worker's globals.
    ...js.configs.recommended,
    files: ["service_worker/**/*.js"],
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: "script",
      globals: {
        ...globals.serviceworker,
        // Replaced by the server (fieldapp/web.py) with the JSON list of the shell's URLs.
        __SHELL_URLS__: "readonly",
      },
    },
  },
];
