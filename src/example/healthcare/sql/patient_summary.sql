-- One row per patient: encounter counts and costs, paid claim amounts.
with encounter_totals as (
  select patient_id, count(*) as encounters, sum(total_cost) as encounter_cost
  from clinical.encounters
  group by patient_id
),
claim_totals as (
  select patient_id, sum(amount) filter (where status = 'PAID') as paid_claims
  from clinical.claims
  group by patient_id
)
select p.patient_id,
       p.ssn,
       p.birth_date,
       p.gender,
       p.state,
       coalesce(e.encounters, 0) as encounters,
       coalesce(e.encounter_cost, 0) as encounter_cost,
       coalesce(c.paid_claims, 0) as paid_claims
from clinical.patients p
left join encounter_totals e on e.patient_id = p.patient_id
left join claim_totals c on c.patient_id = p.patient_id
