package api

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// openapiJSON is the OpenAPI 3.1 description of Routes
// (TestOpenAPIMatchesRoutes keeps them equal).
//
//go:embed openapi.json
var openapiJSON []byte

// OpenAPI is the embedded document, for tests and tools.
func OpenAPI() []byte { return openapiJSON }

func (a *API) openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(openapiJSON)
}
