import packageJson from '../package.json' with { type: 'json' };

/** The gateway's version, as published. */
export const VERSION: string = packageJson.version;
