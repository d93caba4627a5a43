package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// listDevicesHandler: GET /api/v1/admin/users/:username/devices answers
// {"devices": [device…]} (store.Device), most recently seen first; 404 for
// an unknown user.
func (s *Server) listDevicesHandler(c echo.Context) error {
	devices, err := s.DB.ListDevices(c.Request().Context(), c.Param("username"))
	return answer(c, http.StatusOK, map[string]any{"devices": devices}, err)
}

// revokeDeviceHandler: POST /api/v1/admin/devices/:id/revoke revokes the
// device (its access tokens stop at once, it may not log in again) and its
// refresh tokens (store.RevokeDevice, audited as device.revoke). Answers
// the device; revoking twice keeps the first time.
func (s *Server) revokeDeviceHandler(c echo.Context) error {
	d, err := s.DB.RevokeDevice(c.Request().Context(), c.Param("id"))
	return answer(c, http.StatusOK, d, err)
}
