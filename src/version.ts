import { version } from "../package.json" with { type: "json" };

/** The version of this build, from package.json (inlined by the bundler). */
export const VERSION: string = version;

/** Carried by every API response, so a client notices a daemon of another version. */
export const VERSION_HEADER = "x-ve-version";
