/** The repository's root folder. */
export declare const ROOT: string;
/** Bundles `export … from './src/….ts'` lines (paths from ROOT) and imports the result as T. */
export declare function loadTs<T>(tag: string, exportLines: string[]): Promise<T>;
