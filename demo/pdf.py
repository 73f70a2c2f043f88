"""Small real PDFs for the demo, the tests and the benchmark: one A4 page
of text in Helvetica (umlauts through WinAnsiEncoding), a correct cross
reference table, a few hundred bytes. Written by hand rather than drawn
with Pillow: the text stays text (searchable, readable by any PDF
reader's text extraction) and 5,000 are made in well under a second."""


def _text(value: str) -> bytes:
    data = value.encode("cp1252", "replace")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def pdf_simple(title: str, lines: list[str] | tuple[str, ...] = ()) -> bytes:
    """A one-page PDF with `title` as a heading and `lines` below it."""
    content = b"BT /F1 16 Tf 56 780 Td (" + _text(title) + b") Tj /F1 11 Tf 14 TL 0 -12 Td"
    for line in lines:
        content += b" (" + _text(line) + b") '"
    content += b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Title (" + _text(title) + b") /Producer (genoportal) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    start = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        start,
    )
    return bytes(out)
