package api

import (
	"net"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
	"go.temporal.io/sdk/converter"
)

// codecRoutes serves the payload codec at /codec/encode and /codec/decode for the Temporal
// UI (its "codec endpoint"), so that an authorised reader sees encrypted history in clear.
// Readers need a bearer token with the auditor or admin scope; in dev mode a request from
// loopback needs none. Browsers call it from the UI's origin, so CORS admits that origin.
func (s *Server) codecRoutes(e *echo.Echo) {
	handler := converter.NewPayloadCodecHTTPHandler(s.Codec)
	serve := func(c echo.Context) error {
		if s.DevMode && fromLoopback(c) {
			handler.ServeHTTP(c.Response(), c.Request())
			return nil
		}
		return s.auth(scopeAuditor)(func(c echo.Context) error {
			handler.ServeHTTP(c.Response(), c.Request())
			return nil
		})(c)
	}
	preflight := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
	for _, path := range []string{"/codec/encode", "/codec/decode"} {
		e.POST(path, serve, s.codecCORS)
		e.OPTIONS(path, preflight, s.codecCORS)
	}
}

// fromLoopback reports whether the request's peer is on this machine.
func fromLoopback(c echo.Context) bool {
	host, _, err := net.SplitHostPort(c.Request().RemoteAddr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && ip.IsLoopback()
}

// codecCORS lets the Temporal UI's origin (UIOrigins) call the codec from the browser.
func (s *Server) codecCORS(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		origin := c.Request().Header.Get(echo.HeaderOrigin)
		if origin != "" && slices.Contains(s.UIOrigins, origin) {
			h := c.Response().Header()
			h.Set(echo.HeaderAccessControlAllowOrigin, origin)
			h.Set(echo.HeaderAccessControlAllowMethods, "POST, OPTIONS")
			h.Set(echo.HeaderAccessControlAllowHeaders, "Content-Type, X-Namespace, Authorization")
			h.Set(echo.HeaderAccessControlAllowCredentials, "true")
			h.Set(echo.HeaderVary, echo.HeaderOrigin)
		}
		return next(c)
	}
}
