// Package model holds Minifleet's domain types, roles and coded errors.
package model

import (
	"errors"
	"fmt"
)

// Code classifies an error; the web layer maps codes to HTTP statuses.
type Code string

const (
	CodeInvalid   Code = "invalid"   // 422: the input is wrong
	CodeNotFound  Code = "not_found" // 404
	CodeConflict  Code = "conflict"  // 409: the state forbids it
	CodeForbidden Code = "forbidden" // 403
	CodeThrottled Code = "throttled" // 429
	CodeInternal  Code = "internal"  // 500
)

// Error is a coded error whose Key is a translation key shown to the user.
// Field names the form field it belongs to, when it belongs to one.
type Error struct {
	Code  Code
	Key   string
	Field string
	Data  map[string]any
	Err   error
}

func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Key
	if e.Field != "" {
		s += " (" + e.Field + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a coded error.
func Errorf(code Code, key string) *Error { return &Error{Code: code, Key: key} }

// FieldError builds an invalid-input error for one form field.
func FieldError(field, key string) *Error { return &Error{Code: CodeInvalid, Key: key, Field: field} }

// ErrorCode returns the code of err, CodeInternal when it has none.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorKey returns the translation key of err, "" when it has none.
func ErrorKey(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Key
	}
	return ""
}

// IsNotFound reports whether err is a not-found error.
func IsNotFound(err error) bool { return err != nil && ErrorCode(err) == CodeNotFound }

// NotFound is a not-found error for a kind of object.
func NotFound(what string) *Error {
	return &Error{Code: CodeNotFound, Key: "error.not_found", Err: fmt.Errorf("%s not found", what)}
}

// FieldErrors collects several field errors from one form.
type FieldErrors map[string]string

func (f FieldErrors) Error() string { return fmt.Sprintf("%d invalid fields", len(f)) }

// Add records key for field, keeping the first error of each field.
func (f FieldErrors) Add(field, key string) {
	if _, ok := f[field]; !ok {
		f[field] = key
	}
}

// Err returns f as an error, or nil when empty.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return f
}
