import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from coop.models import AuditAction, AuditEvent
from coop.spreadsheets import neutralise
from finance.exports import forecast_csv, forecast_xlsx
from finance.models import ExchangeRate, RevenueForecast
from tests.finance.factories import generate_forecast

pytestmark = pytest.mark.django_db

JAN1, MAR31 = datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)


@pytest.fixture
def forecast(manager, team, make_deal):
    make_deal(value_cents=100_001, title='=HYPERLINK("http://evil.example")')
    make_deal(stage="Lead", value_cents=50_000, close=datetime.date(2026, 2, 10), title="@SUM(A1)")
    make_deal(stage="Negotiation", value_cents=20_000, title="Plain roof")
    return generate_forecast(manager, team, name="+Q1 plan")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("ok", "ok"),
        (-5, -5),
        (Decimal("-1.5"), Decimal("-1.5")),
    ],
)
def test_only_text_that_would_start_a_formula_is_neutralised(value, expected):
    assert neutralise(value) == expected


def test_the_csv_has_summary_periods_and_deals_with_neutralised_text(forecast):
    body = b"".join(forecast_csv(forecast))
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM spreadsheets look for
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["Forecast", "'+Q1 plan"]
    # 1000.01 x 50 % = 500.005 -> 500.00 (half-even), + 200.00 x 80 % + 500.00 x 10 %
    assert ["Expected total", "710.00"] in rows
    header = rows.index(
        [
            "Period",
            "From",
            "To",
            "Deals",
            "Expected",
            "Realized",
            "P10",
            "P50",
            "P90",
            "95 % low",
            "95 % high",
            "Method",
        ]
    )
    assert rows[header + 1][:5] == ["Jan 2026", "2026-01-01", "2026-01-31", "2", "660.00"]
    deal_header = next(i for i, row in enumerate(rows) if row and row[0] == "Deal id")
    titles = [row[1] for row in rows[deal_header + 1 :]]
    assert '\'=HYPERLINK("http://evil.example")' in titles
    assert "'@SUM(A1)" in titles
    assert len(titles) == 3


def test_the_xlsx_has_three_sheets_numbers_as_numbers_and_no_formulas(forecast):
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(forecast_xlsx(forecast))))
    assert workbook.sheetnames == ["Summary", "Periods", "Deals"]
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True)}
    assert summary["Forecast"] == "'+Q1 plan"
    assert summary["Expected total"] == 710
    deals = list(workbook["Deals"].iter_rows(values_only=True))
    assert len(deals) == 4
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    periods = list(workbook["Periods"].iter_rows(values_only=True))
    assert [row[0] for row in periods[1:]] == ["Jan 2026", "Feb 2026", "Mar 2026"]


def test_the_page_offers_both_downloads(client, manager, forecast):
    client.force_login(manager)
    response = client.get(f"/forecasts/{forecast.pk}/export.xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"] == 'attachment; filename="forecast-q1-plan.xlsx"'
    assert response.streaming
    openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    response = client.get(f"/forecasts/{forecast.pk}/export.csv")
    assert response.streaming
    assert b"".join(response.streaming_content).decode("utf-8-sig").startswith("Forecast,'+Q1 plan")
    assert client.get(f"/forecasts/{forecast.pk}/export.pdf").status_code == 404


def test_a_large_export_is_streamed_in_pieces_as_the_deals_are_read(
    client, manager, team, make_deal, monkeypatch
):
    for index in range(300):
        make_deal(value_cents=10_000 + index, title=f"Roof {index:03}")
    large = generate_forecast(manager, team, name="Large")
    monkeypatch.setattr("coop.spreadsheets.CHUNK_SIZE", 1_024)
    client.force_login(manager)
    response = client.get(f"/forecasts/{large.pk}/export.csv")
    assert response.streaming
    pieces = list(response.streaming_content)
    assert len(pieces) > 10
    assert all(len(piece) < 2 * 1_024 for piece in pieces)
    rows = list(csv.reader(io.StringIO(b"".join(pieces).decode("utf-8-sig"))))
    assert [row[1] for row in rows[-300:]] == [f"Roof {index:03}" for index in range(300)]
    response = client.get(f"/forecasts/{large.pk}/export.xlsx")
    pieces = list(response.streaming_content)
    assert len(pieces) > 1 and all(len(piece) <= 1_024 for piece in pieces)
    deals = openpyxl.load_workbook(io.BytesIO(b"".join(pieces)))["Deals"]
    assert deals.max_row == 301


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_forecast_command_writes_the_same_file_as_the_page(forecast, tmp_path, file_format):
    output = tmp_path / f"out.{file_format}"
    call_command(
        "export_forecast", str(forecast.pk), "--format", file_format, "--output", str(output)
    )
    if file_format == "csv":
        assert output.read_bytes() == b"".join(forecast_csv(forecast))
    else:
        assert openpyxl.load_workbook(output).sheetnames == ["Summary", "Periods", "Deals"]


def test_export_forecast_command_explains_a_bad_id_or_folder(forecast, tmp_path):
    with pytest.raises(CommandError, match="No forecast with id 'nope'"):
        call_command("export_forecast", "nope", "--format", "csv", "--output", str(tmp_path / "x"))
    with pytest.raises(CommandError, match="does not exist"):
        call_command(
            "export_forecast",
            str(forecast.pk),
            "--format",
            "csv",
            "--output",
            str(tmp_path / "missing" / "x.csv"),
        )


def _rates_file(tmp_path, text):
    path = tmp_path / "rates.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_exchange_rates_imports_and_replaces_idempotently(tmp_path):
    path = _rates_file(
        tmp_path, "date,base,quote,rate\n2026-01-02,USD,EUR,0.91\n2026-01-02,gbp,EUR,1.17\n"
    )
    out = io.StringIO()
    call_command("import_exchange_rates", path, stdout=out)
    call_command("import_exchange_rates", path, stdout=out)
    assert "Imported 2 exchange rates" in out.getvalue()
    assert ExchangeRate.objects.count() == 2
    path = _rates_file(tmp_path, "date,base,quote,rate\n2026-01-02,USD,EUR,0.92\n")
    call_command("import_exchange_rates", path, stdout=out)
    assert ExchangeRate.objects.get(base="USD").rate == Decimal("0.92")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("2026-01-02,USD,EUR,0.9\n2026-13-01,USD,EUR,0.9\n", "Line 3: date '2026-13-01'"),
        ("2026-01-02,USD,XXX,0.9\n", "Line 2: unknown currency 'XXX'"),
        ("2026-01-02,USD,EUR,abc\n", "Line 2: rate 'abc' is not a number"),
        ("2026-01-02,USD,EUR,-1\n", "Line 2: rate '-1' must be a positive number"),
        ("2026-01-02,EUR,EUR,1\n", "Line 2: base and quote are the same currency"),
        ("2026-01-02,USD,EUR,0.9,extra\n", "Line 2: more than four columns"),
        ("2026-01-02,USD,EUR\n", "Line 2: fewer than four columns"),
        (
            "2026-01-02,USD,EUR,0.9\n2026-01-02,USD,EUR,0.8\n",
            "Line 3: USD/EUR on 2026-01-02 is already on line 2",
        ),
    ],
)
def test_import_exchange_rates_names_the_bad_line_and_imports_nothing(tmp_path, body, message):
    path = _rates_file(tmp_path, "date,base,quote,rate\n" + body)
    with pytest.raises(CommandError, match=message):
        call_command("import_exchange_rates", path)
    assert not ExchangeRate.objects.exists()


def test_import_exchange_rates_wants_the_header_and_a_file(tmp_path):
    with pytest.raises(CommandError, match="Line 1: the header must be"):
        call_command("import_exchange_rates", _rates_file(tmp_path, "2026-01-02,USD,EUR,0.9\n"))
    with pytest.raises(CommandError, match="No file"):
        call_command("import_exchange_rates", str(tmp_path / "nope.csv"))


def test_generate_forecasts_forecasts_each_team_once_a_day(team, other_team, make_deal):
    make_deal(value_cents=10_000)
    args = ["--period", "monthly", "--start", "2026-01-01", "--end", "2026-03-31"]
    out = io.StringIO()
    call_command("generate_forecasts", *args, stdout=out)
    assert RevenueForecast.objects.count() == 2
    forecast = RevenueForecast.objects.get(team=team)
    assert forecast.total_expected_cents == 5_000 and forecast.user is None
    call_command("generate_forecasts", *args, stdout=out)
    assert RevenueForecast.objects.count() == 2
    assert "already forecast today" in out.getvalue()


def test_generate_forecasts_for_one_team_and_its_errors(team, other_team, make_deal, usd_pipeline):
    make_deal(in_pipeline=usd_pipeline)
    base = ["--period", "monthly", "--start", "2026-01-01", "--end", "2026-03-31"]
    with pytest.raises(CommandError, match="No team named 'East'"):
        call_command("generate_forecasts", *base, "--team", "East")
    with pytest.raises(CommandError, match="is not a date"):
        call_command(
            "generate_forecasts",
            "--period",
            "monthly",
            "--start",
            "01/01/2026",
            "--end",
            "2026-03-31",
        )
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 team"):
        call_command("generate_forecasts", *base, "--team", "North", stderr=err)
    assert "No exchange rate from USD to EUR" in err.getvalue()
    assert not RevenueForecast.objects.exists()


def test_generating_and_exporting_are_audited_from_the_page_and_the_command(
    client, manager, forecast, tmp_path
):
    generated = AuditEvent.objects.get(action=AuditAction.FORECAST_GENERATED)
    assert (generated.actor_name, generated.object_id) == ("manager", str(forecast.pk))
    assert generated.detail == {"scope": "forecast", "period_type": "monthly", "deals": 3}
    client.force_login(manager)
    assert client.get(f"/forecasts/{forecast.pk}/export.xlsx").status_code == 200
    call_command(
        "export_forecast", str(forecast.pk), "--format", "csv", "--output", str(tmp_path / "f")
    )
    exports = AuditEvent.objects.filter(action=AuditAction.EXPORTED).order_by("occurred_at")
    assert [(event.actor_name, event.detail) for event in exports] == [
        ("manager", {"format": "xlsx", "via": "web"}),
        ("", {"format": "csv", "via": "command"}),
    ]


def test_a_refused_export_is_not_audited(client, outsider, forecast):
    client.force_login(outsider)
    assert client.get(f"/forecasts/{forecast.pk}/export.csv").status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORTED).exists()
