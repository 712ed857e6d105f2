package dashshot

import (
	"bytes"
	"fmt"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Parse reads a /metrics scrape in the Prometheus text format.
func Parse(scrape []byte) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(scrape))
	if err != nil {
		return nil, fmt.Errorf("dashshot: scrape: %w", err)
	}
	return fams, nil
}
