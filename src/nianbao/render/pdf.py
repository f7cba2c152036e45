"""PDF and DOC of the official layout through LibreOffice headless, with the fonts substituted.

The DOCX names the fonts of GB/T 9704 (方正小标宋简体, 仿宋_GB2312, 黑体, 楷体_GB2312, 宋体), which a
Linux machine does not have. Left to itself LibreOffice takes the first CJK font it finds, often
the Japanese variant of Noto. The conversion here runs with a fontconfig file of the project's
(``FONTCONFIG_FILE`` in the soffice call's own environment, beside its own user installation) that
maps each name to a free Simplified-Chinese font from Debian's packages:

====================  ==========================================  =================
named in the DOCX      used in the PDF                              Debian package
====================  ==========================================  =================
方正小标宋简体         AR PL UMing CN, emboldened                   fonts-arphic-uming
仿宋_GB2312, 宋体      AR PL UMing CN                               fonts-arphic-uming
黑体                   WenQuanYi Zen Hei                            fonts-wqy-zenhei
楷体_GB2312            AR PL UKai CN                                fonts-arphic-ukai
====================  ==========================================  =================

(Noto Serif/Sans CJK SC would do as well on the page, but Debian ships them only inside a font
collection whose embedded name is the Japanese one, ``NotoSerifCJKjp``.)

The PDF's metadata is the report's: its title, the agency as author, the rendering's time, and
``nianbao`` as the creating program, so that a reader knows the file's date is the rendering's.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from nianbao import __version__
from nianbao.errors import read_error
from nianbao.readers.office import INSTALL_HINT, TIMEOUT_SECONDS, find_soffice
from nianbao.record import Report
from nianbao.render.layout import report_title

CREATOR = "nianbao"
SERIF, SANS, KAI = "AR PL UMing CN", "WenQuanYi Zen Hei", "AR PL UKai CN"
# Font named in the document -> (font used, weight or "").
SUBSTITUTES: dict[str, tuple[str, str]] = {
    "方正小标宋简体": (SERIF, "bold"),
    "方正小标宋_GBK": (SERIF, "bold"),
    "小标宋": (SERIF, "bold"),
    "仿宋_GB2312": (SERIF, ""),
    "仿宋": (SERIF, ""),
    "FangSong": (SERIF, ""),
    "宋体": (SERIF, ""),
    "SimSun": (SERIF, ""),
    "黑体": (SANS, ""),
    "SimHei": (SANS, ""),
    "楷体_GB2312": (KAI, ""),
    "楷体": (KAI, ""),
    "KaiTi": (KAI, ""),
}
FONT_PACKAGES = ("fonts-arphic-uming", "fonts-arphic-ukai", "fonts-wqy-zenhei")


def fontconfig_file() -> str:
    """The fontconfig configuration: the system's (or the one the environment names), then the
    substitutions above."""
    rules = []
    for name, (font, weight) in SUBSTITUTES.items():
        edits = f'<edit name="family" mode="assign" binding="strong"><string>{escape(font)}</string></edit>'
        if weight:
            edits += f'<edit name="weight" mode="assign" binding="strong"><const>{weight}</const></edit>'
        rules.append(
            f'  <match target="pattern"><test name="family"><string>{escape(name)}</string></test>{edits}</match>'
        )
    # Any other Chinese text: the Simplified-Chinese fonts before any other CJK font.
    rules.append(
        '  <match target="pattern"><test name="lang" compare="contains"><string>zh</string></test>'
        f'<edit name="family" mode="append" binding="weak"><string>{SERIF}</string></edit></match>'
    )
    system = escape(os.environ.get("FONTCONFIG_FILE") or "/etc/fonts/fonts.conf")
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f'  <include ignore_missing="yes">{system}</include>\n' + "\n".join(rules) + "\n</fontconfig>\n"
    )


_FILTERS = {"pdf": "writer_pdf_Export", "doc": "MS Word 97"}

# LibreOffice reads ``w:autoSpaceDE``/``w:autoSpaceDN`` from no DOCX: its default puts a quarter
# character between Chinese and figures, which a PDF's text then holds as a space ("申请 12 件").
# Nor does it read ``w:overflowPunct``: a 、 that would hang past the 版心's edge was dropped from
# the PDF. The conversion is a macro of the user installation's that turns both off before export.
_MACRO = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Nianbao" script:language="StarBasic">
Sub Convert(source As String, target As String, filter As String)
  On Error Goto Done
  Dim load(0) As New com.sun.star.beans.PropertyValue
  load(0).Name = &quot;Hidden&quot;
  load(0).Value = True
  doc = StarDesktop.loadComponentFromURL(source, &quot;_blank&quot;, 0, load())
  defaults = doc.createInstance(&quot;com.sun.star.text.Defaults&quot;)
  defaults.ParaIsCharacterDistance = False
  defaults.ParaIsHangingPunctuation = False
  styles = doc.StyleFamilies.getByName(&quot;ParagraphStyles&quot;)
  For i = 0 To styles.Count - 1
    styles.getByIndex(i).ParaIsCharacterDistance = False
    styles.getByIndex(i).ParaIsHangingPunctuation = False
  Next
  Dim store(0) As New com.sun.star.beans.PropertyValue
  store(0).Name = &quot;FilterName&quot;
  store(0).Value = filter
  doc.storeToURL(target, store())
  doc.close(True)
Done:
  StarDesktop.terminate()
End Sub
</script:module>
"""
_LIBRARIES = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:libraries PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "libraries.dtd">
<library:libraries xmlns:library="http://openoffice.org/2000/library" xmlns:xlink="http://www.w3.org/1999/xlink">
 <library:library library:name="Standard" xlink:href="$(USER)/basic/Standard/{kind}.xlb/" xlink:type="simple" library:link="false"/>
</library:libraries>
"""
_LIBRARY = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:library PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "library.dtd">
<library:library xmlns:library="http://openoffice.org/2000/library" library:name="Standard" library:readonly="false" library:passwordprotected="false">{elements}</library:library>
"""
# A user installation that LibreOffice takes as set up (else its first start replaces the macros).
_REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Setup/Office"><prop oor:name="ooSetupInstCompleted" oor:op="fuse"><value>true</value></prop></item>
</oor:items>
"""


def user_installation(root: Path) -> Path:
    """A LibreOffice user installation under ``root``: the conversion macro and the fonts."""
    user = root / "user"
    standard = user / "basic" / "Standard"
    standard.mkdir(parents=True)
    (user / "registrymodifications.xcu").write_text(_REGISTRY, encoding="utf-8")
    for kind in ("script", "dialog"):
        (user / "basic" / f"{kind}.xlc").write_text(_LIBRARIES.format(kind=kind), encoding="utf-8")
    elements = '<library:element library:name="Nianbao"/>'
    (standard / "script.xlb").write_text(_LIBRARY.format(elements=elements), encoding="utf-8")
    (standard / "dialog.xlb").write_text(_LIBRARY.format(elements=""), encoding="utf-8")
    (standard / "Nianbao.xba").write_text(_MACRO, encoding="utf-8")
    (root / "fonts.conf").write_text(fontconfig_file(), encoding="utf-8")
    return root


def convert_official(source: Path, target: str, out_dir: Path, report: Report, now: dt.datetime) -> Path:
    """``source`` (a DOCX written by ``render.official``) as ``target`` ("pdf" or "doc")."""
    soffice = find_soffice()
    if soffice is None:
        raise read_error("RD09", "write", target=target.upper(), hint=INSTALL_HINT)
    produced = out_dir / f"{source.stem}.{target}"
    with tempfile.TemporaryDirectory(prefix="nianbao-lo-") as tmp:
        profile = user_installation(Path(tmp))
        env = {**os.environ, "FONTCONFIG_FILE": str(profile / "fonts.conf")}
        macro = f'macro:///Standard.Nianbao.Convert("{source.resolve().as_uri()}","{produced.resolve().as_uri()}","{_FILTERS[target]}")'
        cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore", macro]
        try:
            subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_SECONDS, check=False, env=env)
        except subprocess.TimeoutExpired as exc:
            raise read_error("RD01", "office_timeout", seconds=TIMEOUT_SECONDS) from exc
    if not produced.exists():
        raise read_error("RD01", "render_failed", target=target.upper(), name=source.name)
    if target == "pdf":
        _stamp(produced, report, now)
    return produced


def pdf_date(when: dt.datetime) -> str:
    """``D:20250120093000+08'00'`` in the machine's time zone."""
    local = when.astimezone()
    offset = local.strftime("%z") or "+0000"
    return f"D:{local:%Y%m%d%H%M%S}{offset[:3]}'{offset[3:]}'"


def _stamp(path: Path, report: Report, now: dt.datetime) -> None:
    """The PDF's information dictionary: the report's title and agency, the rendering's time."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(path))
    writer.add_metadata(
        {
            "/Title": report_title(report),
            "/Author": report.agency or "",
            "/Creator": f"{CREATOR} {__version__}",
            "/CreationDate": pdf_date(now),
            "/ModDate": pdf_date(now),
        }
    )
    with path.open("wb") as out:
        writer.write(out)
