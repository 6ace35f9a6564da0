// ESLint's flat configuration for the UI's scripts (static/js: ES modules run by the browser,
// no build step). It imports nothing, so `npx eslint` needs no project packages; the test
// command does not run it (ESLint comes from npm): README "Checking the code" gives the command.
const browser = [
  "window", "document", "fetch", "URL", "URLSearchParams", "FormData", "CSS", "Option",
  "CustomEvent", "XMLHttpRequest", "Blob", "localStorage", "setTimeout", "clearTimeout",
  "setInterval", "clearInterval", "TextDecoder", "matchMedia", "requestAnimationFrame",
];

export default [
  {
    files: ["static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: Object.fromEntries(browser.map((name) => [name, "readonly"])),
    },
    rules: {
      "no-undef": "error",
      "no-unused-vars": "error",
      "no-shadow": "error",
      "no-redeclare": "error",
      "no-dupe-keys": "error",
      "no-unreachable": "error",
      "no-constant-condition": "error",
      "no-fallthrough": "error",
      "no-self-assign": "error",
      "no-unsafe-finally": "error",
      "no-use-before-define": ["error", { functions: false }],
      eqeqeq: "error",
      "no-var": "error",
      "prefer-const": "error",
    },
  },
];
