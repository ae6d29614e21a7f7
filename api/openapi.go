package api

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPI is the API's contract, served at /api/openapi.yaml; a test checks that every
// route Echo registers is in it.
//
//go:embed openapi.yaml
var openAPI []byte

func serveOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", openAPI)
}
