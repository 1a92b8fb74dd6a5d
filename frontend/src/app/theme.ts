import {
  Badge,
  createTheme,
  darken,
  DEFAULT_THEME,
  lighten,
  luminance,
  type CSSVariablesResolver,
  type MantineColorsTuple,
} from "@mantine/core";

import classes from "./theme.module.css";

export const theme = createTheme({
  primaryColor: "indigo",
  defaultRadius: "sm",
  fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
  focusRing: "auto", // a ring on what the keyboard focuses (:focus-visible), none on a mouse click
  components: {
    // A badge keeps its whole text ("SUCCEEDED", never "SUCCEE…"): its table column makes room for it.
    Badge: Badge.extend({ classNames: { root: classes.badge, label: classes.badgeLabel } }),
  },
});

/** WCAG's contrast ratio of two colors (1 to 21). */
export function contrast(a: string, b: string): number {
  const [la, lb] = [luminance(a), luminance(b)];
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

const AA = 4.6; // WCAG AA asks 4.5:1 for text; a little more so that rounding never falls under it

/** `start`, darkened (or lightened) in small steps until it reads at AA on each of the backgrounds. */
export function readable(start: string, backgrounds: string[], towards: "darker" | "lighter"): string {
  for (let step = 0; step <= 20; step++) {
    const c = step === 0 ? start : towards === "darker" ? darken(start, step / 20) : lighten(start, step / 20);
    if (backgrounds.every((bg) => contrast(c, bg) >= AA)) return c;
  }
  return towards === "darker" ? "#000" : "#fff";
}

const C = DEFAULT_THEME.colors;
const WHITE = DEFAULT_THEME.white;
// What text sits on: the page and cards, striped and hovered table rows; in dark, the body and cards.
const LIGHT_BG = [WHITE, C.gray[0], C.gray[1]];
const DARK_BG = [C.dark[7], C.dark[6]];

/** Mantine's default colors, each made to read at WCAG AA where it is text or carries text, in both
 * schemes: filled (white text on it), light variants (its text on its tint), outline and colored text,
 * links, dimmed text and placeholders. Mantine's own defaults fall short for small text (#868e96 dimmed on
 * white is 3.3:1, indigo-6 under white 4.3:1, yellow-9 on yellow-1 2.7:1). Computed once, from the palette:
 * a shade is kept where it already reads well, darkened (lightened in dark) just enough where not. */
function colorVariables(name: string, shades: MantineColorsTuple) {
  return {
    light: {
      [`--mantine-color-${name}-filled`]: readable(shades[6], [WHITE], "darker"),
      [`--mantine-color-${name}-light-color`]: readable(shades[9], [shades[1], shades[2]], "darker"),
      [`--mantine-color-${name}-outline`]: readable(shades[6], LIGHT_BG, "darker"),
      [`--mantine-color-${name}-text`]: readable(shades[6], LIGHT_BG, "darker"),
    },
    dark: {
      [`--mantine-color-${name}-filled`]: readable(shades[8], [WHITE], "darker"),
      [`--mantine-color-${name}-light-color`]: readable(shades[0], [darken(shades[9], 0.3)], "lighter"),
      [`--mantine-color-${name}-outline`]: readable(shades[4], DARK_BG, "lighter"),
      [`--mantine-color-${name}-text`]: readable(shades[4], DARK_BG, "lighter"),
    },
  };
}

function buildVariables(): ReturnType<CSSVariablesResolver> {
  const light: Record<string, string> = {};
  const dark: Record<string, string> = {};
  for (const [name, shades] of Object.entries(C)) {
    const v = colorVariables(name, shades);
    Object.assign(light, v.light);
    Object.assign(dark, v.dark);
  }
  const dimmedLight = readable(C.gray[6], LIGHT_BG, "darker");
  const dimmedDark = readable(C.dark[2], DARK_BG, "lighter");
  Object.assign(light, {
    "--mantine-color-dimmed": dimmedLight,
    "--mantine-color-placeholder": dimmedLight,
    "--mantine-color-anchor": light["--mantine-color-indigo-text"],
    "--mantine-color-error": light["--mantine-color-red-text"],
  });
  Object.assign(dark, {
    "--mantine-color-dimmed": dimmedDark,
    "--mantine-color-placeholder": dimmedDark,
    "--mantine-color-anchor": dark["--mantine-color-indigo-text"],
    "--mantine-color-error": dark["--mantine-color-red-text"],
  });
  return { variables: {}, light, dark };
}

const variables = buildVariables();

/** For MantineProvider: the readable colors above, in both schemes. */
export const cssVariablesResolver: CSSVariablesResolver = () => variables;
