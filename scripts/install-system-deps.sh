#!/usr/bin/env bash
# System packages: LibreOffice headless (Writer) reads DOC/WPS and renders PDF; LibreOffice Calc
# recalculates the fill-in workbook's formulas in tests; the CJK font gives rendered PDFs a
# Chinese text layer. Skipped where they are already installed.
set -euo pipefail
need=()
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui)
[ -e /usr/lib/libreoffice/program/libscfiltlo.so ] || need+=(libreoffice-calc-nogui)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
# PostgreSQL server binaries: the store's tests start a throwaway cluster (initdb + pg_ctl).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
# Chromium: the web app's browser tests drive Debian's chromium with Playwright (no browser download);
# poppler-utils: pdftoppm draws a PDF original's pages on the report page.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Rendered PDFs: free Simplified-Chinese fonts in place of the 公文 fonts (nianbao/render/pdf.py);
# poppler-utils (pdftoppm, pdffonts) for the tests that look at the rendered pages.
fc-list 2>/dev/null | grep -qi "AR PL UMing CN" || need+=(fonts-arphic-uming)
fc-list 2>/dev/null | grep -qi "AR PL UKai CN" || need+=(fonts-arphic-ukai)
fc-list 2>/dev/null | grep -qi "WenQuanYi Zen Hei" || need+=(fonts-wqy-zenhei)
# pdftoppm: rendered pages for the layout tests, scans for the OCR tests and benchmark.
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
