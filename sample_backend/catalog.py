"""The hand-written content the seed is drawn from: organizations, topics, names, texts.

Only constants live here; :mod:`sample_backend.data` combines them with a fixed random
seed into records::

    ORGANIZATIONS[0].name   # "Universidad Andina de Bogotá"
    TOPICS[1]               # [(language, [(topic, description fragment, skills), ...]), ...]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = [
    "CRITERIA",
    "DESCRIPTIONS",
    "DURATIONS",
    "ESCO_SKILL_BASE",
    "EVIDENCE_HOSTS",
    "FIRST_NAMES",
    "LAST_NAMES",
    "MAIL_DOMAINS",
    "MODERATION_FLAGS",
    "ORGANIZATIONS",
    "PREFIXES",
    "REVOCATION_REASONS",
    "SKILL_NAMES",
    "TEMPLATE_ENGINES",
    "TOPICS",
    "OrgSpec",
    "Topic",
]

ESCO_SKILL_BASE = "http://data.europa.eu/esco/skill/"
SKILL_NAMES: list[tuple[str, bool]] = [
    ("Python (computer programming)", True),
    ("SQL", True),
    ("data analytics", True),
    ("machine learning", True),
    ("statistics", True),
    ("manage project", True),
    ("apply agile development", True),
    ("lead a team", True),
    ("cloud technologies", True),
    ("cyber security", True),
    ("JavaScript", True),
    ("web programming", True),
    ("user experience design", True),
    ("DevOps", True),
    ("digital marketing techniques", True),
    ("communicate in English", True),
    ("environmental management", True),
    ("financial analysis", True),
    ("entrepreneurship", True),
    ("artificial intelligence", True),
    ("software testing", True),
    ("blockchain", True),
    ("operate forklift", True),
    ("health and safety in the workplace", True),
    ("customer service", True),
    ("Lean manufacturing", True),
    ("use spreadsheets software", True),
    ("conflict management", True),
    ("logistics", True),
    ("provide first aid", True),
    ("electrical safety regulations", True),
    ("pensamiento crítico aplicado", False),
    ("resiliencia profesional", False),
    ("workplace readiness", False),
]


@dataclass(frozen=True, slots=True)
class OrgSpec:
    """One seeded organization and how much data it gets."""

    id: int
    name: str
    slug: str
    country: str
    website: str
    domain: str
    billing_email: str
    stripe_customer_id: str
    internal_notes: str
    account_manager_id: int
    created_at: datetime
    badge_count: int
    credential_count: int
    staff_ids: tuple[int, ...]


ORGANIZATIONS = [
    OrgSpec(
        id=1,
        name="Universidad Andina de Bogotá",
        slug="universidad-andina-bogota",
        country="CO",
        website="https://www.uandina.edu.co",
        domain="uandina.edu.co",
        billing_email="facturacion.credenciales@uandina.edu.co",
        stripe_customer_id="cus_PzK4q8Vt2nLx7R",
        internal_notes=(
            "Renovación anual negociada con la Vicerrectoría Académica: descuento del 18% "
            "hasta 2027-01. Contacto legal: Dra. P. Restrepo (ext. 4471). No mencionar el "
            "piloto de blockchain al cliente."
        ),
        account_manager_id=4417,
        created_at=datetime(2021, 2, 15, 14, 3, 22, 481000, tzinfo=UTC),
        badge_count=32,
        credential_count=264,
        staff_ids=(9001, 9002, 9007),
    ),
    OrgSpec(
        id=2,
        name="Bootcamp Código Madrid",
        slug="codigo-madrid",
        country="ES",
        website="https://codigomadrid.es",
        domain="codigomadrid.es",
        billing_email="administracion.facturas@codigomadrid.es",
        stripe_customer_id="cus_R2fW9sKd4XbQ1m",
        internal_notes=(
            "Paga por SEPA. Reclamaciones de cobro pausadas hasta el T3 tras la disputa "
            "CB-20931; el CFO pidió no contactar a alumnos directamente."
        ),
        account_manager_id=5120,
        created_at=datetime(2022, 9, 1, 8, 45, 10, 112000, tzinfo=UTC),
        badge_count=28,
        credential_count=72,
        staff_ids=(9003, 9004),
    ),
    OrgSpec(
        id=3,
        name="Summit Workforce Training, Inc.",
        slug="summit-workforce",
        country="US",
        website="https://www.summitworkforce.com",
        domain="summitworkforce.com",
        billing_email="accounts-payable@summitworkforce.com",
        stripe_customer_id="cus_S8nB3yHq6TjV0c",
        internal_notes=(
            "Enterprise plan, MSA signed 2023-09-14. Renewal risk flagged by CSM (NPS 4); "
            "offer the Q2 credit only if they raise the SSO outage again."
        ),
        account_manager_id=3981,
        created_at=datetime(2023, 4, 20, 17, 30, 0, 904000, tzinfo=UTC),
        badge_count=26,
        credential_count=64,
        staff_ids=(9005, 9006),
    ),
]


# (topic, description fragment, skill names); names are built as "<prefix> <topic>".
Topic = tuple[str, str, tuple[str, ...]]

TOPICS: dict[int, list[tuple[str, list[Topic]]]] = {
    1: [
        (
            "es-CO",
            [
                (
                    "Ciencia de Datos con Python",
                    "limpieza, exploración y modelado de datos con Python y pandas",
                    ("Python (computer programming)", "data analytics", "statistics"),
                ),
                (
                    "Analítica de Datos en Salud",
                    "indicadores epidemiológicos y tableros para secretarías de salud",
                    ("data analytics", "statistics", "pensamiento crítico aplicado"),
                ),
                (
                    "Gestión Ágil de Proyectos",
                    "Scrum, Kanban y gestión de riesgos en proyectos universitarios",
                    ("manage project", "apply agile development", "lead a team"),
                ),
                (
                    "Inteligencia Artificial Aplicada",
                    "aprendizaje automático supervisado y ética de la IA",
                    (
                        "artificial intelligence",
                        "machine learning",
                        "Python (computer programming)",
                    ),
                ),
                (
                    "Desarrollo Web Full Stack",
                    "aplicaciones web con JavaScript, APIs REST y bases de datos",
                    ("JavaScript", "web programming", "SQL"),
                ),
                (
                    "Ciberseguridad",
                    "gestión de vulnerabilidades, OWASP y respuesta a incidentes",
                    ("cyber security", "cloud technologies"),
                ),
                (
                    "Liderazgo y Trabajo en Equipo",
                    "comunicación asertiva, negociación y resolución de conflictos",
                    ("lead a team", "conflict management", "resiliencia profesional"),
                ),
                (
                    "Computación en la Nube",
                    "arquitecturas en la nube, contenedores y costos operativos",
                    ("cloud technologies", "DevOps"),
                ),
                (
                    "Emprendimiento e Innovación",
                    "modelos de negocio, validación de mercado y financiación temprana",
                    ("entrepreneurship", "financial analysis"),
                ),
                (
                    "Estadística para la Investigación",
                    "diseño experimental, inferencia y reproducibilidad con R y Python",
                    ("statistics", "data analytics"),
                ),
                (
                    "Bases de Datos SQL",
                    "modelado relacional, consultas SQL y optimización de índices",
                    ("SQL", "data analytics"),
                ),
                (
                    "Gestión Ambiental",
                    "sistemas de gestión ISO 14001 y huella de carbono",
                    ("environmental management", "manage project"),
                ),
                (
                    "Finanzas para No Financieros",
                    "estados financieros, flujo de caja e indicadores de gestión",
                    ("financial analysis", "use spreadsheets software"),
                ),
            ],
        ),
        (
            "en",
            [
                (
                    "Technical English B2",
                    "technical reading, writing and presentations in English",
                    ("communicate in English",),
                ),
            ],
        ),
    ],
    2: [
        (
            "es-ES",
            [
                (
                    "Desarrollo Web Full Stack",
                    "HTML, CSS, JavaScript, Node.js y despliegue de aplicaciones",
                    ("JavaScript", "web programming", "DevOps"),
                ),
                (
                    "React Avanzado",
                    "hooks, gestión de estado, rendimiento y testing en React",
                    ("JavaScript", "software testing"),
                ),
                (
                    "Node.js y APIs REST",
                    "diseño de APIs REST, autenticación JWT y bases de datos",
                    ("JavaScript", "web programming", "SQL"),
                ),
                (
                    "Data Science y Machine Learning",
                    "pandas, scikit-learn y despliegue de modelos",
                    ("Python (computer programming)", "machine learning", "statistics"),
                ),
                (
                    "Ciberseguridad Ofensiva",
                    "pentesting, hacking ético y análisis de vulnerabilidades",
                    ("cyber security",),
                ),
                (
                    "DevOps con Kubernetes",
                    "integración continua, contenedores y orquestación con Kubernetes",
                    ("DevOps", "cloud technologies"),
                ),
                (
                    "Diseño UX/UI",
                    "investigación de usuarios, prototipado y sistemas de diseño",
                    ("user experience design",),
                ),
                (
                    "Marketing Digital",
                    "SEO, SEM, analítica web y automatización de campañas",
                    ("digital marketing techniques", "data analytics"),
                ),
                (
                    "Testing Automatizado",
                    "pruebas unitarias, de integración y end-to-end",
                    ("software testing", "JavaScript"),
                ),
                (
                    "Blockchain y Web3",
                    "contratos inteligentes, wallets y tokenización",
                    ("blockchain", "JavaScript"),
                ),
            ],
        ),
        (
            "ca-ES",
            [
                (
                    "Desenvolupament Web Full Stack",
                    "aplicacions web completes amb JavaScript i Node.js",
                    ("JavaScript", "web programming"),
                ),
            ],
        ),
        (
            "en",
            [
                (
                    "Cloud Engineering on AWS",
                    "cloud architecture, infrastructure as code and cost control",
                    ("cloud technologies", "DevOps"),
                ),
            ],
        ),
    ],
    3: [
        (
            "en-US",
            [
                (
                    "Forklift Operator Safety",
                    "safe operation, load handling and daily inspections of powered trucks",
                    ("operate forklift", "health and safety in the workplace"),
                ),
                (
                    "OSHA General Industry",
                    "hazard recognition and OSHA standards for general industry",
                    ("health and safety in the workplace",),
                ),
                (
                    "Project Management Essentials",
                    "scope, schedule and stakeholder management for team leads",
                    ("manage project", "lead a team"),
                ),
                (
                    "Customer Service Excellence",
                    "de-escalation, service recovery and customer satisfaction metrics",
                    ("customer service", "conflict management"),
                ),
                (
                    "Lean Six Sigma",
                    "DMAIC, waste reduction and statistical process control",
                    ("Lean manufacturing", "statistics"),
                ),
                (
                    "Supervisory Leadership",
                    "coaching, delegation and performance conversations",
                    ("lead a team", "conflict management"),
                ),
                (
                    "Excel for Business",
                    "formulas, pivot tables and dashboards in Microsoft Excel",
                    ("use spreadsheets software", "data analytics"),
                ),
                (
                    "Warehouse Logistics",
                    "inventory control, receiving and shipping best practices",
                    ("logistics", "workplace readiness"),
                ),
                (
                    "CPR and First Aid",
                    "adult CPR, AED use and first aid for the workplace",
                    ("provide first aid",),
                ),
                (
                    "Electrical Safety (NFPA 70E)",
                    "arc flash hazards, lockout/tagout and electrical safe work practices",
                    ("electrical safety regulations", "health and safety in the workplace"),
                ),
            ],
        ),
        (
            "es-US",
            [
                (
                    "Seguridad en Montacargas",
                    "operación segura de montacargas e inspecciones diarias",
                    ("operate forklift", "health and safety in the workplace"),
                ),
            ],
        ),
    ],
}

PREFIXES: dict[str, list[tuple[str, str | None]]] = {
    "es-CO": [
        ("Fundamentos de", "beginner"),
        ("Taller de", "intermediate"),
        ("Diplomado en", "advanced"),
    ],
    "es-ES": [("Iniciación a", "beginner"), ("Bootcamp", "intermediate"), ("Máster", "expert")],
    "ca-ES": [("Iniciació al", "beginner"), ("Bootcamp", "intermediate")],
    "en": [("Introduction to", "beginner"), ("Professional", "advanced")],
    "en-US": [("Level I:", "beginner"), ("Level II:", "intermediate"), ("Certified", None)],
    "es-US": [("Nivel I:", "beginner"), ("Nivel II:", "intermediate")],
}

DESCRIPTIONS = {
    "es-CO": "Esta insignia certifica que la persona completó el programa y domina {frag}.",
    "es-ES": "Acredita que el alumno ha superado el programa y domina {frag}.",
    "ca-ES": "Acredita que l'alumne ha superat el programa i domina {frag}.",
    "en": "Awarded to learners who completed the program and can demonstrate {frag}.",
    "en-US": "Awarded to employees who completed the course and can demonstrate {frag}.",
    "es-US": "Se otorga a quienes completaron el curso y demuestran {frag}.",
}

CRITERIA = {
    "es": (
        "- Asistir al menos al {attendance}% de las sesiones\n"
        "- Aprobar el proyecto final con nota mínima de {grade}\n"
        "- Completar {hours} horas de trabajo autónomo"
    ),
    "ca": (
        "- Assistir almenys al {attendance}% de les sessions\n"
        "- Aprovar el projecte final amb una nota mínima de {grade}\n"
        "- Completar {hours} hores de treball autònom"
    ),
    "en": (
        "- Attend at least {attendance}% of the sessions\n"
        "- Pass the final assessment with a score of {grade} or higher\n"
        "- Complete {hours} hours of guided practice"
    ),
}

MODERATION_FLAGS = [
    "mod-ai-screen:v7:clean",
    "manual-review:approved-by:trust-safety-ops",
    "image-hash-dup-check:passed:phash-0x9f3c",
    "trademark-scan:needs-legal-review:TM-4412",
    "copy-check:similarity-0.12:below-threshold",
]
TEMPLATE_ENGINES = [
    "badgeforge-tmpl/4.12.7+build.5531",
    "badgeforge-tmpl/4.13.0-rc2+build.5710",
    "badgeforge-tmpl/3.9.44-legacy",
]
DURATIONS: list[float | None] = [8.0, 12.0, 16.0, 20.0, 24.0, 32.0, 40.0, 60.0, 80.0, 120.0]


FIRST_NAMES = {
    "CO": ["María", "Juan", "Valentina", "Santiago", "Camila", "Andrés", "Daniela", "Sebastián",
           "Laura", "Felipe", "Natalia", "Julián", "Paula", "Carlos", "Isabella", "Alejandro"],
    "ES": ["Lucía", "Hugo", "Martina", "Pablo", "Sofía", "Álvaro", "Carmen", "Javier", "Irene",
           "Marc", "Núria", "Jordi", "Elena", "Diego", "Claudia", "Sergio"],
    "US": ["James", "Olivia", "Michael", "Emma", "Robert", "Ava", "David", "Sophia", "Daniel",
           "Mia", "Jose", "Ashley", "Tyler", "Brianna", "Kevin", "Jasmine"],
}  # fmt: skip
LAST_NAMES = {
    "CO": ["González", "Rodríguez", "Gómez", "López", "Martínez", "Díaz", "Pérez", "Ramírez",
           "Torres", "Vargas", "Castaño", "Restrepo", "Ospina", "Mejía", "Quintero", "Zapata"],
    "ES": ["García", "Fernández", "Sánchez", "Martín", "Ruiz", "Jiménez", "Moreno", "Muñoz",
           "Navarro", "Romero", "Puig", "Serra", "Ortega", "Castro", "Vidal", "Iglesias"],
    "US": ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Garcia",
           "Wilson", "Anderson", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Hernandez"],
}  # fmt: skip
MAIL_DOMAINS = {
    "CO": ["estudiantes.uandina.edu.co", "correo.example.co", "example.com"],
    "ES": ["alumni.codigomadrid.es", "correo.example.es", "example.com"],
    "US": ["mail.example.com", "employees.summitworkforce.com", "example.org"],
}


REVOCATION_REASONS = {
    "CO": [
        "Emitida por error a un destinatario equivocado",
        "Plagio comprobado en el proyecto final",
        "Solicitud del titular por error en el nombre",
        "Anulación de la matrícula por el comité académico",
    ],
    "ES": [
        "Emitida por error: el alumno no completó el módulo",
        "Pago de la matrícula devuelto",
        "Solicitud del alumno",
    ],
    "US": [
        "Issued in error to the wrong employee",
        "Certification requirements not met after audit",
        "Employee request: name correction",
    ],
}
EVIDENCE_HOSTS = {
    1: "https://portafolio.uandina.edu.co/evidencias/",
    2: "https://github.com/codigomadrid-alumni/",
    3: "https://lms.summitworkforce.com/transcripts/",
}
