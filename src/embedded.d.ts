// `import x from "file.sql" with { type: "text" }` inlines the file at build time.
declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "*.md" {
  const text: string;
  export default text;
}
