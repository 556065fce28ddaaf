// The UI's languages: the catalogue in use, switching, and formatting dates.

export const LANGUAGES = ["zh-CN", "en"];
const STORAGE_KEY = "linli.language";
const COOKIE = "linli_language";

let language = "zh-CN";
let catalogue = {};
let assetBase = "/";
const listeners = new Set();

/** Start with what the shell was rendered with. */
export function init(boot) {
  language = boot.language;
  catalogue = boot.catalogue;
  assetBase = boot.assetBase;
}

/** The language in use. */
export function currentLanguage() {
  return language;
}

/** The language saved by the user on this device, if any. */
export function savedLanguage() {
  const saved = localStorage.getItem(STORAGE_KEY);
  return LANGUAGES.includes(saved) ? saved : null;
}

/** Translate a key, filling {name} placeholders from vars. */
export function t(key, vars = {}) {
  const text = catalogue[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
}

/** Switch language, remember it (this device and the next page load) and tell listeners. */
export async function setLanguage(next) {
  if (!LANGUAGES.includes(next)) throw new Error(`unsupported language ${next}`);
  if (next !== language) {
    const response = await fetch(`${assetBase}i18n/${next}.json`);
    if (!response.ok) throw new Error(`catalogue ${next}: HTTP ${response.status}`);
    catalogue = await response.json();
    language = next;
    document.documentElement.lang = next;
  }
  localStorage.setItem(STORAGE_KEY, next);
  document.cookie = `${COOKIE}=${next}; path=/; max-age=31536000; SameSite=Strict`;
  for (const listener of listeners) listener(next);
}

/** Call listener(language) after every switch; returns a function that stops it. */
export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** A date and time for people, in the UI's language. */
export function formatTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(language, { dateStyle: "medium", timeStyle: "short" }).format(
    new Date(iso),
  );
}

/** An area's name in the UI's language (area registry entries carry per-language names). */
export function areaName(area) {
  if (!area) return "";
  const names = area.names || {};
  return names[language] || names[language.split("-")[0]] || area.name || area.area_id;
}
