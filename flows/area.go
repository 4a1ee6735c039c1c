package flows

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sangkien/sangkien/bot"
)

// Area is the city the gateway serves, as a box of latitudes and longitudes (WGS84). A
// shared point outside it is questioned at the location step: a citizen who shares
// where they stand from another town, or a phone that sends 0,0, most likely meant
// somewhere else.
type Area struct {
	MinLat, MinLon, MaxLat, MaxLon float64
	// Name is the city's name in each language, as the question says it.
	Name bot.Text
}

// Hanoi is Hà Nội since its 2008 extension, about 20°34′–21°23′ N and 105°17′–106°02′
// E, with a margin of a kilometre or two.
var Hanoi = Area{MinLat: 20.53, MinLon: 105.27, MaxLat: 21.40, MaxLon: 106.05,
	Name: bot.Text{VI: "Hà Nội", EN: "Hanoi"}}

// Contains reports whether the point lies in the box.
func (a Area) Contains(l bot.Location) bool {
	return l.Lat >= a.MinLat && l.Lat <= a.MaxLat && l.Lon >= a.MinLon && l.Lon <= a.MaxLon
}

// ParseBox reads "minLat,minLon,maxLat,maxLon" (CITY_BBOX) into a's box.
func (a Area) ParseBox(s string) (Area, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return a, errors.New("want minLat,minLon,maxLat,maxLon, e.g. 20.53,105.27,21.40,106.05")
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return a, fmt.Errorf("%q is not a number", strings.TrimSpace(p))
		}
		v[i] = f
	}
	a.MinLat, a.MinLon, a.MaxLat, a.MaxLon = v[0], v[1], v[2], v[3]
	switch {
	case !(a.MinLat >= -90 && a.MaxLat <= 90 && a.MinLon >= -180 && a.MaxLon <= 180):
		return a, errors.New("latitudes within ±90, longitudes within ±180")
	case a.MinLat >= a.MaxLat || a.MinLon >= a.MaxLon:
		return a, errors.New("the minimum comes first: minLat,minLon,maxLat,maxLon")
	}
	return a, nil
}
