/**
 * `auto-fit`, read one way by the viewer and the toolbar: on unless it says "false". It is on by
 * default, so a missing attribute cannot be what turns it off.
 */
export const parseAutoFit = (value: string | null): boolean => value !== 'false';

/** Lit's converter for an `auto-fit` property (the attribute is named where it is declared, for the elements manifest). */
export const autoFitConverter = { fromAttribute: parseAutoFit };
