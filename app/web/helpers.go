package web

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func msgT(c *fiber.Ctx, key string, args ...any) string { return i18n.T(c.UserContext(), key, args...) }

func asModelError(err error, target **model.Error) bool { return errors.As(err, target) }
