// GET /openapi.json: an OpenAPI 3.1 document. Its content is generated from the routes'
// own schemas (src/api/openapi.ts); this schema only pins the frame every answer has.
import { type Static, Type } from "@sinclair/typebox";

export const OpenApiDocument = Type.Object(
  {
    openapi: Type.Literal("3.1.0"),
    info: Type.Object({ title: Type.String(), version: Type.String() }),
    paths: Type.Record(Type.String({ pattern: "^/" }), Type.Record(Type.String(), Type.Unknown())),
    components: Type.Object({ schemas: Type.Record(Type.String(), Type.Unknown()) }),
  },
  { additionalProperties: true },
);
export type OpenApiDocument = Static<typeof OpenApiDocument>;
