// Sets the console's color scheme before the app's bundle runs, so that a dark system shows no white flash:
// what the operator chose (kept by Mantine under this key), else the system's. Mantine's own
// <ColorSchemeScript> is an inline script, which the console's Content-Security-Policy refuses; this file is
// served from the origin like the bundle (script-src 'self'). The same logic as Mantine's
// localStorageColorSchemeManager with defaultColorScheme="auto" (src/app/App.tsx).
try {
  var chosen = window.localStorage.getItem("mantine-color-scheme-value");
  var scheme = chosen === "light" || chosen === "dark" ? chosen : undefined;
  if (!scheme) scheme = window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  document.documentElement.setAttribute("data-mantine-color-scheme", scheme);
} catch (e) {
  // no storage or no matchMedia: MantineProvider sets the scheme when it mounts
}
