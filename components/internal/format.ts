/** Groups a session ID for reading aloud: 123 456 789. */
export const groupCode = (code: string): string => code.replace(/(\d{3})(?=\d)/g, '$1 ');
