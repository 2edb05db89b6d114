// GET /openapi.json: the document of every route of this app, built on first use.
import { Elysia } from "elysia";
import { NoQuery, OpenApiDocument } from "../../models/index.ts";
import { type RouteContext, operation } from "./kit.ts";

const getDocument = operation("GET /openapi.json", {
  summary: "This API as an OpenAPI 3.1 document, generated from the schemas the routes validate with",
  status: 200,
  response: OpenApiDocument,
  errors: [],
  examples: [{ title: "The document" }],
});

export const openApiRoutes = ({ reply, openapi }: RouteContext) => {
  let text: string | undefined;
  return new Elysia({ normalize: false }).get(
    "/openapi.json",
    () => reply((text ??= getDocument.serialize(openapi()))),
    { query: NoQuery, detail: getDocument.detail },
  );
};
