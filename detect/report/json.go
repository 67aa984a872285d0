package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the report as indented JSON (the Data type's field tags); ReadJSON reads it
// back.
func (d *Data) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("render json report: %w", err)
	}
	return nil
}

// ReadJSON decodes a report written by WriteJSON.
func ReadJSON(r io.Reader) (*Data, error) {
	var d Data
	if err := json.NewDecoder(r).Decode(&d); err != nil {
		return nil, fmt.Errorf("read json report: %w", err)
	}
	return &d, nil
}

// Format is an output format of Render.
type Format string

const (
	FormatText     Format = "text"
	FormatMarkdown Format = "markdown"
	FormatHTML     Format = "html"
	FormatJSON     Format = "json"
)

// Formats lists the formats, for help texts.
var Formats = []Format{FormatText, FormatMarkdown, FormatHTML, FormatJSON}

// ParseFormat accepts a format name (also "md", "txt").
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "text", "txt", "":
		return FormatText, nil
	case "markdown", "md":
		return FormatMarkdown, nil
	case "html":
		return FormatHTML, nil
	case "json":
		return FormatJSON, nil
	}
	return "", fmt.Errorf("unknown report format %q (want text, markdown, html or json)", s)
}

// Ext is the file name extension of the format.
func (f Format) Ext() string {
	switch f {
	case FormatMarkdown:
		return ".md"
	case FormatHTML:
		return ".html"
	case FormatJSON:
		return ".json"
	}
	return ".txt"
}

// Render writes d in format f.
func (d *Data) Render(w io.Writer, f Format) error {
	switch f {
	case FormatText:
		return d.WriteText(w)
	case FormatMarkdown:
		return d.WriteMarkdown(w)
	case FormatHTML:
		return d.WriteHTML(w)
	case FormatJSON:
		return d.WriteJSON(w)
	}
	return fmt.Errorf("unknown report format %q", f)
}
