/** The package version, stamped into every output's metadata. */
export const VERSION = '0.1.0';
