/**
 * `auto-fit`, read one way by the viewer and the toolbar: on unless it says "false". It is on by
 * default, so a missing attribute cannot be what turns it off.
 */
export const parseAutoFit = (value: string | null): boolean => value !== 'false';

/** Lit's options for an `auto-fit` property. */
export const autoFitProperty = { attribute: 'auto-fit', converter: { fromAttribute: parseAutoFit } } as const;
