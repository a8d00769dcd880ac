/**
 * Translations of an element's texts by language tag ('fr', 'de-CH'…), each a partial override of
 * the English texts: `register` adds one, `textsFor` gives an element the texts it shows.
 */
export function translations<T extends object>(english: T, byLang = new Map<string, Partial<T>>()) {
  return {
    register(lang: string, strings: Partial<T>): void {
      byLang.set(lang.toLowerCase(), strings);
    },
    /** English, under the translation for the element's `lang` or the page's (else its primary language: 'de' for 'de-CH'), under its `strings`. */
    textsFor({ lang, strings }: { lang: string; strings: Partial<T> }): T {
      const tag = (lang || document.documentElement.lang).toLowerCase();
      return { ...english, ...(byLang.get(tag) ?? byLang.get(tag.split('-')[0]!)), ...strings };
    },
  };
}
