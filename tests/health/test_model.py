"""The model file: the shipped default, variants, and errors that name the line and the field."""

import textwrap

import pytest

from sucesso.health.model import ModelFileError, load_model


def load(text: str):
    return load_model(textwrap.dedent(text), "team.yaml")


def errors(text: str) -> str:
    with pytest.raises(ModelFileError) as caught:
        load(text)
    return str(caught.value)


def test_the_default_model_loads_with_its_tech_touch_variant():
    mf = load_model()
    assert mf.base.kind == "weighted"
    assert set(mf.base.components) == {"usage", "adoption", "support", "satisfaction", "financial", "engagement",
                                       "referrals"}
    assert mf.base.bands == {"red": 50, "yellow": 70, "green": 100}
    (when, tech), = mf.variants
    assert when == {"touch_model": "tech"}
    assert tech.components["engagement"].weight == 0
    # a variant keeps what it does not name
    assert tech.components["engagement"].signals == mf.base.components["engagement"].signals
    assert tech.components["usage"] == mf.base.components["usage"]


def test_an_unknown_signal_is_named_with_its_line():
    message = errors("""\
        kind: weighted
        components:
          usage:
            weight: 10
            signals:
              logins_30d: {scale: [[0, 0], [10, 100]]}
        """)
    assert "team.yaml, line 5: components.usage.signals" in message
    assert "unknown signal 'logins_30d'" in message


def test_a_scale_that_does_not_rise_and_a_negative_weight_are_both_reported():
    message = errors("""\
        components:
          usage:
            weight: -1
            signals:
              active_days_30d: {scale: [[10, 0], [5, 100]]}
        """)
    assert "line 3: components.usage.weight: Input should be greater than or equal to 0 (got -1)" in message
    assert "line 5: components.usage.signals.active_days_30d.scale: the values of a scale must rise" in message


def test_a_misspelt_field_and_bad_bands():
    message = errors("""\
        components:
          usage:
            wieght: 10
            signals:
              active_days_30d: {scale: [[0, 0], [10, 100]]}
        bands: {red: 70, yellow: 50, green: 100}
        """)
    assert "line 3: components.usage.wieght: Extra inputs are not permitted" in message
    assert "line 2: components.usage.weight: Field required" in message
    assert "line 6: bands: band bounds must rise and the last must be 100" in message


def test_yaml_syntax_errors_give_the_line():
    message = errors("""\
        kind: weighted
        components: [unclosed
        """)
    assert message.startswith("team.yaml, line 3: not valid YAML")


def test_a_points_model_needs_rules_and_a_weighted_one_components():
    assert "a points model needs `rules`" in errors("kind: points\n")
    assert "a weighted model needs `components`" in errors("name: x\n")
    assert "line 1" in errors("just text")


def test_a_bad_variant_is_reported_at_its_own_lines():
    message = errors("""\
        components:
          usage:
            weight: 10
            signals:
              active_days_30d: {scale: [[0, 0], [10, 100]]}
        variants:
          - name: smb
            when: {segmnt: smb}
        """)
    assert "line 8: variants.0.when.segmnt" in message
