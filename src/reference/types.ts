/** A parsed registry reference `registry/repository[:tag][@digest]`. */
export interface Reference {
  /** Host with optional port, lowercased; `docker.io` for Docker Hub. */
  registry: string;
  /** Path components joined by `/`; `library/NAME` for official Docker Hub images. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** A local OCI image layout reference `path[:tag|@digest]`. */
export interface LayoutReference {
  path: string;
  tag?: string;
  digest?: string;
}
