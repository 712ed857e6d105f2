package app

import (
	"cmp"
	"reflect"
	"slices"

	"github.com/resetbot/resetbot/core/channel"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/enrollpage"
)

// buildEnrollPages makes the one-time enrollment pages when an enabled
// channel shows enrollments through them (its settings are a
// channel.PageUser saying so) and a public URL is set; the page's key is
// derived from keys.hmac for this purpose only.
func (a *App) buildEnrollPages(cfg *config.Config, opt Options, hmacKey []byte) error {
	if !usesPages(&cfg.Channels) || cfg.Server.PublicURL == "" {
		return nil
	}
	p, err := enrollpage.New(enrollpage.Options{Store: a.Store, Key: derive(hmacKey, "resetbot enrollment pages"),
		PublicURL: cfg.Server.PublicURL, Texts: a.Messages, Audit: a.Audit, Log: opt.Log, Clock: opt.Clock, Rand: opt.Rand})
	if err != nil {
		return err
	}
	a.EnrollPages = p
	return nil
}

// enabler is a channel's settings that say whether they turn the channel
// on (channels.<key>.enabled).
type enabler interface{ ChannelEnabled() bool }

// usesPages reports whether the settings of any enabled channel in section
// (a pointer to the channels section) say the channel shows enrollments
// through the pages. Settings that cannot say whether they are enabled
// count as enabled: pages built for nobody cost a route, pages missing
// break every enrollment on that channel.
func usesPages(section any) bool {
	for _, s := range channelSettings(section) {
		u, ok := s.(channel.PageUser)
		if !ok || !u.EnrollPage() {
			continue
		}
		if e, ok := s.(enabler); !ok || e.ChannelEnabled() {
			return true
		}
	}
	return false
}

// channelSettings returns the settings of every channel in section, a
// pointer to the channels section: each struct field (by pointer, so
// methods of either receiver are found) and each value of a map of plug-in
// blocks (channels.<type> decoded by the plug-in registry), in a stable
// order. The root asks these values for capabilities, so it names no channel
// and no field: a channel added to the section is asked too.
func channelSettings(section any) []any {
	v := reflect.ValueOf(section)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	v = v.Elem()
	var out []any
	for i := range v.NumField() {
		if !v.Type().Field(i).IsExported() {
			continue
		}
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Struct:
			out = append(out, f.Addr().Interface())
		case reflect.Map:
			keys := f.MapKeys()
			slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(a.String(), b.String()) })
			for _, k := range keys {
				if e := f.MapIndex(k); !isNil(e) {
					out = append(out, e.Interface())
				}
			}
		case reflect.Pointer, reflect.Interface:
			if !f.IsNil() {
				out = append(out, f.Interface())
			}
		}
	}
	return out
}

func isNil(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice:
		return v.IsNil()
	}
	return false
}
